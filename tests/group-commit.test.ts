import { beforeEach, describe, expect, it } from 'vitest';
import type { Store, Transaction } from '../src/store/store.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';

describe.each(ENGINES)('group commit of the writes of polls that finish together (%s)', (engine) => {
  const use = useEngine(engine);
  let store: Store;
  const ids = async () => (await store.sources.health()).map((s) => s.id);
  const addSource = (id: string) => (tx: Transaction) => tx.sources.sync([{ id, url: `https://${id}.example/feed` }]);
  const inTransaction = () => (engine === 'sqlite' ? connectionOf(store).inTransaction : false);

  beforeEach(async () => {
    store = await use.open();
  });

  it('commits the writes of one turn of the event loop together, and gives each its own answer', async () => {
    const statements: string[] = [];
    if (engine === 'sqlite') {
      const exec = connectionOf(store).exec.bind(connectionOf(store));
      connectionOf(store).exec = (sql: string) => (statements.push(sql), exec(sql));
    }
    const answers = await Promise.all(['a', 'b', 'c'].map((id) => store.write(async (tx) => (await addSource(id)(tx), `${id} stored`))));
    expect(answers).toEqual(['a stored', 'b stored', 'c stored']);
    if (engine === 'sqlite') expect(statements.filter((sql) => sql === 'COMMIT')).toHaveLength(1);
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('undoes a failing write alone: the others of its group are stored', async () => {
    const results = await Promise.allSettled([
      store.write(addSource('a')),
      store.write(async (tx) => {
        await addSource('b')(tx);
        throw new Error('b went wrong after writing');
      }),
      store.write(addSource('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'b went wrong after writing' });
    expect(await ids()).toEqual(['a', 'c']);
  });

  it.skipIf(engine !== 'sqlite')('fails every write of the group, storing none, when the commit itself fails', async () => {
    const results = await Promise.allSettled([
      store.write(addSource('a')),
      // A foreign key checked only at commit: the commit of the whole group is refused.
      store.write(() => {
        connectionOf(store).pragma('defer_foreign_keys = ON');
        connectionOf(store).prepare(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (12345, 't', 0, '[]')`).run();
        return Promise.resolve();
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(await ids()).toEqual([]);
    expect(inTransaction()).toBe(false);
    // The next write goes through as usual.
    await store.write(addSource('d'));
    expect(await ids()).toEqual(['d']);
  });

  it('runs transactions begun together one after the other, so that one failing takes back only its own writes', async () => {
    const results = await Promise.allSettled([
      store.transaction(async (tx) => {
        await addSource('a')(tx);
        await addSource('b')(tx);
        throw new Error('a and b undone');
      }),
      store.transaction(addSource('c')),
      store.write(addSource('d')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(await ids()).toEqual(['c', 'd']);
    expect(inTransaction()).toBe(false);
  });

  it('commits a write alone when nothing else is waiting', async () => {
    await store.write(addSource('a'));
    await store.write(addSource('b'));
    expect(await ids()).toEqual(['a', 'b']);
  });

  it('undoes a lone write that fails, and the next one goes through', async () => {
    const failed = store.write(async (tx) => {
      await addSource('a')(tx);
      throw new Error('a went wrong after writing');
    });
    await expect(failed).rejects.toThrow('a went wrong after writing');
    expect(await ids()).toEqual([]);
    await store.write(addSource('b'));
    expect(await ids()).toEqual(['b']);
  });

  it('undoes the first and the last write of a group alone, whichever fails', async () => {
    const failing = (id: string) => async (tx: Transaction) => {
      await addSource(id)(tx);
      throw new Error(`${id} went wrong`);
    };
    const results = await Promise.allSettled([store.write(failing('a')), store.write(addSource('b')), store.write(addSource('c')), store.write(failing('d'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect(await ids()).toEqual(['b', 'c']);
    expect(inTransaction()).toBe(false);
  });
});
