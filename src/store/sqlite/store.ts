// The SQLite engine: one better-sqlite3 connection and the per-aggregate stores over it, behind the store's interface.
// better-sqlite3 is synchronous: every method does its work when called and returns a settled promise, so a transaction
// whose callback waits only on the store runs within one turn of the event loop, as fast as a synchronous one would.
import type { BackupResult, Generation, Store, StoreOptions, Transaction } from '../store.ts';
import { ArticleStore } from './articles.ts';
import { backupDatabase } from './backup.ts';
import { MemoryCluster } from './cluster.ts';
import { openDatabase, schemaVersion, type Db } from './db.ts';
import { FingerprintStore } from './fingerprints.ts';
import { GroupCommit } from './group-commit.ts';
import { ItemStore } from './items.ts';
import { MetaStore } from './meta.ts';
import { migrations } from './migrations.ts';
import { optimize, prune } from './prune.ts';
import { attachSearch, inlineSearchIndex, readerSearchIndex, SEARCH_STAMP_SQL, searchFile, workerSearchIndex, type SearchIndex } from './search-index.ts';
import { SourceStore } from './sources.ts';
import { databaseBytes, tagsByTopic } from './stats.ts';
import { StoryStore } from './stories.ts';

/** The connection under each store this engine opened: for the engine's own tests and benchmarks, nobody else. */
const connections = new WeakMap<Store, Db>();

export async function openSqliteStore(file: string, options: StoreOptions = {}): Promise<Store> {
  const db = openDatabase(file, { onMigration: options.onMigration, readOnly: options.readOnly });
  let search: SearchIndex;
  try {
    attachSearch(db, file);
    const searchOptions = { onError: options.onSearchError, onBuild: options.onSearchBuild };
    search = options.readOnly
      ? readerSearchIndex(db)
      : options.background && file !== ':memory:'
        ? workerSearchIndex(db, file, options.background, searchOptions)
        : inlineSearchIndex(db, searchOptions);
  } catch (err) {
    db.close();
    throw new Error(`cannot open the search index ${searchFile(file)}: ${(err as Error).message}`, { cause: err });
  }
  const generation = db.prepare<[], Generation>(`SELECT feeds, health, ${SEARCH_STAMP_SQL} AS search FROM generation`);
  const stories = new StoryStore(db);
  const stores = {
    items: new ItemStore(db, stories, search),
    sources: new SourceStore(db),
    meta: new MetaStore(db),
    articles: new ArticleStore(db),
    fingerprints: new FingerprintStore(db),
    stories,
  };
  const cluster = new MemoryCluster(db, options.now);
  const handle: Transaction = { ...stores, fence: (lease) => cluster.fence(lease) };
  // One transaction of the connection at a time: another one begun while a callback waits would nest in it.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn);
    turn = run.catch(() => {});
    return run;
  };
  /** Runs fn between `begin` and `end`, undoing it (and the story index's memory of it) when it fails. */
  const undoable = async <T>(fn: () => Promise<T>, begin: string, end: string, undo: string): Promise<T> => {
    db.exec(begin);
    try {
      const result = await fn();
      db.exec(end);
      return result;
    } catch (err) {
      // SQLite may have rolled the whole transaction back already (a full disk).
      if (db.inTransaction) db.exec(undo);
      // The story index in memory may have learnt reports the rollback took back.
      stories.forget();
      throw err;
    }
  };
  const writes = new GroupCommit(
    db,
    exclusive,
    (fn) => undoable(fn, 'SAVEPOINT write', 'RELEASE write', 'ROLLBACK TO write; RELEASE write'),
    () => stories.forget(),
  );
  const latest = migrations.at(-1)?.version ?? 0;
  const store: Store = {
    ...stores,
    cluster,
    search: {
      settled: () => search.settled(),
      progress: async () => (db.open ? search.progress() : { current: false, building: false, backlog: 0 }),
      building: async (stamp) => search.building(stamp),
    },
    generation: async () => generation.get()!,
    prune: async (options) => {
      const result = prune(db, options);
      stories.trim(options.now - Math.min(options.items, 2 * options.window));
      return result;
    },
    optimize: async () => {
      search.trim();
      optimize(db);
    },
    transaction: async (fn) => {
      const result = await exclusive(() => undoable(() => fn(handle), 'BEGIN', 'COMMIT', 'ROLLBACK'));
      search.changed();
      return result;
    },
    write: async (fn) => {
      const result = await writes.add(() => fn(handle));
      search.changed();
      return result;
    },
    health: async () => {
      const version = db.open ? schemaVersion(db) : 0;
      return { open: db.open, schemaVersion: version, schemaCurrent: db.open && version === latest };
    },
    size: async () => (db.open ? databaseBytes(db) : 0),
    tagsByTopic: async () => (db.open ? tagsByTopic(db) : []),
    close: async () => {
      if (db.open) db.close();
    },
  };
  connections.set(store, db);
  return store;
}

/** A copy of the database `file`, checked, taken while a daemon may be writing it. */
export function backupSqlite(file: string, target: string): Promise<BackupResult> {
  return backupDatabase(file, target);
}

/** The connection of a store this engine opened (its tests look at tables, pragmas and the write-ahead log). */
export function connectionOf(store: Store): Db {
  const db = connections.get(store);
  if (!db) throw new Error('not a store of the SQLite engine');
  return db;
}
