import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/store.ts';

describe('group commit of the writes of polls that finish together', () => {
  let store: Store;
  const ids = () => store.db.prepare<[], string>(`SELECT id FROM sources ORDER BY id`).pluck().all();
  const addSource = (id: string) => () => store.db.prepare(`INSERT INTO sources (id, url) VALUES (?, ?)`).run(id, `https://${id}.example/feed`);

  beforeEach(() => {
    store = openStore(':memory:');
  });
  afterEach(() => store.close());

  it('commits the writes of one turn of the event loop together, and gives each its own answer', async () => {
    const exec = store.db.exec.bind(store.db);
    const statements: string[] = [];
    store.db.exec = (sql: string) => (statements.push(sql), exec(sql));
    const answers = await Promise.all(['a', 'b', 'c'].map((id) => store.write(() => (addSource(id)(), `${id} stored`))));
    expect(answers).toEqual(['a stored', 'b stored', 'c stored']);
    expect(statements.filter((sql) => sql === 'COMMIT')).toHaveLength(1);
    expect(ids()).toEqual(['a', 'b', 'c']);
  });

  it('undoes a failing write alone: the others of its group are stored', async () => {
    const results = await Promise.allSettled([
      store.write(addSource('a')),
      store.write(() => {
        addSource('b')();
        throw new Error('b went wrong after writing');
      }),
      store.write(addSource('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'b went wrong after writing' });
    expect(ids()).toEqual(['a', 'c']);
  });

  it('fails every write of the group, storing none, when the commit itself fails', async () => {
    const results = await Promise.allSettled([
      store.write(addSource('a')),
      // A foreign key checked only at commit: the commit of the whole group is refused.
      store.write(() => {
        store.db.pragma('defer_foreign_keys = ON');
        store.db.prepare(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (12345, 't', 0, '[]')`).run();
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(ids()).toEqual([]);
    expect(store.db.inTransaction).toBe(false);
    // The next write goes through as usual.
    await store.write(addSource('d'));
    expect(ids()).toEqual(['d']);
  });

  it('commits a write alone when nothing else is waiting', async () => {
    await store.write(addSource('a'));
    await store.write(addSource('b'));
    expect(ids()).toEqual(['a', 'b']);
  });
});
