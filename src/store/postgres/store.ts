// The PostgreSQL engine: a pool of connections (node-postgres) and the per-aggregate stores over it, behind the store's
// interface. Many processes share one database (pollers, web replicas): migrations run once under an advisory lock,
// stories are filed under one advisory lock and matched in memory, and the change counters reach every process by LISTEN/NOTIFY.
import pg from 'pg';
import { OperatorError } from '../../operator-error.ts';
import type { Lease, Store, StoreOptions, Transaction } from '../store.ts';
import { pgCluster, type PgQuery } from './cluster.ts';
import { ArticleStore } from './articles.ts';
import { ChangeWatcher } from './changes.ts';
import { checkout, clientSql, connectionUrl, createPool, Deferring, poolSql, redactUrl, waitForServer, type PoolSettings, type Sql } from './db.ts';
import { isConnectionError, isDeadlock } from './errors.ts';
import { FingerprintStore } from './fingerprints.ts';
import { GroupCommit, wasUndone } from './group-commit.ts';
import { ItemStore } from './items.ts';
import { MetaStore } from './meta.ts';
import { latestVersion, migrate, schemaVersion } from './migrations.ts';
import { prune } from './prune.ts';
import { SourceStore } from './sources.ts';
import { searchBacklog, SearchIndexer } from './search-indexer.ts';
import { RecentReports, StoryStore } from './stories.ts';

/** How long a one-shot command waits for PostgreSQL at start, unless told otherwise (the daemon waits for ever). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Statements each store of this engine has run: the engine's debug hook, for tests that count a page's statements. */
const counters = new WeakMap<Store, () => number>();

export function statementsRun(store: Store): number {
  const count = counters.get(store);
  if (!count) throw new Error('not a store of the PostgreSQL engine');
  return count();
}

/** Checks, in a transaction over `sql`, that a poll's lease still holds (the cluster's fence). */
type Fence = (sql: Sql, lease: Lease) => Promise<void>;

/** The aggregates over one way of running SQL, a poll's writes fenced by `fence` on the same connection. */
function aggregates(sql: Sql, fence: Fence, recent: RecentReports, readOnly = false): Transaction & { stories: StoryStore } {
  const stories = new StoryStore(sql, recent);
  const sources = new SourceStore(sql);
  // A read-only store never writes: the writers keep the sources' rows.
  if (readOnly) sources.sync = async () => {};
  return {
    items: new ItemStore(sql, stories),
    sources,
    meta: new MetaStore(sql),
    articles: new ArticleStore(sql),
    fingerprints: new FingerprintStore(sql),
    stories,
    fence: (lease) => fence(sql, lease),
  };
}

/** Item ids reserved at once: one round trip for this many new items (those a process never uses are a gap in the ids). */
const RESERVED_IDS = 512;

/** The cluster's view of a way of running SQL. */
function pgQuery(sql: Sql, begin: <T>(fn: (tx: PgQuery) => Promise<T>) => Promise<T>): PgQuery {
  return { query: <T>(text: string, params?: unknown[]) => sql.query<T>(text, params), begin };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openPostgresStore(settings: PoolSettings, options: StoreOptions = {}): Promise<Store> {
  const readOnly = options.readOnly ?? false;
  const where = redactUrl(settings.url);
  const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const onWait = options.onWait ?? (() => {});
  const pool = createPool({ ...settings, ...(readOnly ? { readOnly } : {}) });
  let statements = 0;
  const counted = () => void statements++;
  const sql = poolSql(pool, counted);
  const started = Date.now();
  try {
    await waitForServer(pool, settings.url, timeoutMs, onWait);
    if (readOnly) await waitForSchema(sql, where, timeoutMs - (Date.now() - started), onWait);
    else {
      const client = await checkout(pool);
      try {
        await migrate(clientSql(client, counted), options.onMigration);
      } finally {
        client.release();
      }
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }

  const listenerUrl = connectionUrl(settings);
  const changes = new ChangeWatcher(sql, () => new pg.Client({ connectionString: listenerUrl, application_name: 'newsloom' }));
  await changes.listen();

  // The recent reports' band index, shared by this store's transactions (stories.ts): forgotten when a transaction
  // that may have read its own reports into it is rolled back.
  const recent = new RecentReports();
  // A writer indexes the search words of what it and the others committed (search-indexer.ts); a replica never writes.
  const indexer = readOnly ? undefined : new SearchIndexer(sql, (message) => options.onSearchError?.(`search index: ${message}`));
  indexer?.kick();
  /** fn in one transaction on one connection of the pool. */
  const inTransaction = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    if (readOnly) throw new Error(`the store on ${where} was opened read-only`);
    const client = await checkout(pool);
    const on = clientSql(client, counted);
    try {
      await on.query('BEGIN');
      const result = await fn(on);
      await on.query('COMMIT');
      client.release();
      changes.changed();
      indexer?.kick();
      return result;
    } catch (err) {
      recent.forget();
      const lost = isConnectionError(err);
      if (!lost) await on.query('ROLLBACK').catch(() => {});
      client.release(lost ? (err as Error) : undefined);
      throw err;
    }
  };
  const writes = new GroupCommit(
    () => checkout(pool),
    (client) => clientSql(client, counted),
    () => recent.forget(),
  );
  /** A transaction of the cluster's own (claims, host slots, tasks): it changes nothing a feed shows. */
  const clusterTransaction = async <T>(fn: (tx: PgQuery) => Promise<T>): Promise<T> => {
    const client = await checkout(pool);
    const on = clientSql(client, counted);
    try {
      await on.query('BEGIN');
      const result = await fn(pgQuery(on, clusterTransaction));
      await on.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      const lost = isConnectionError(err);
      if (!lost) await on.query('ROLLBACK').catch(() => {});
      client.release(lost ? (err as Error) : undefined);
      throw err;
    }
  };
  const cluster = pgCluster(pgQuery(sql, clusterTransaction), options.now);
  const fence: Fence = (on, lease) => cluster.fence(pgQuery(on, clusterTransaction), lease);
  const stores = aggregates(sql, fence, recent, readOnly);
  const reserved: number[] = [];
  const reserve = async (on: Sql): Promise<number> => {
    if (reserved.length === 0) {
      const rows = await on.query<{ id: number }>(`SELECT nextval(pg_get_serial_sequence('items', 'id')) AS id FROM generate_series(1, $1)`, [RESERVED_IDS]);
      reserved.push(...rows.map((row) => row.id));
    }
    return reserved.shift()!;
  };
  /** Runs fn on a transaction's aggregates over `on`, writing what they held back (Deferring) before it returns. */
  const within = async <T>(on: Sql, fn: (tx: Transaction) => Promise<T>): Promise<T> => {
    const deferring = new Deferring(on, reserve);
    const tx = aggregates(deferring, fence, recent);
    try {
      const result = await fn(tx);
      await deferring.flush();
      return result;
    } catch (err) {
      // Its savepoint or transaction is rolled back: the index may hold reports it read that were never committed.
      if (tx.stories.synced) recent.forget();
      throw err;
    }
  };
  const store: Store = {
    ...stores,
    cluster,
    search: {
      // Searches find every committed item, indexed or still queued (search-indexer.ts): settled only waits for the
      // queue to be taken, and the index is never "being built".
      settled: async () => {
        await indexer?.settled();
      },
      progress: async () => ({ current: true, building: false, backlog: await searchBacklog(sql) }),
      building: () => Promise.resolve(false),
    },
    generation: () => changes.generation(),
    prune: (options) => prune(inTransaction, options),
    optimize: async () => {
      if (!readOnly) await sql.query('ANALYZE');
    },
    transaction: (fn) => inTransaction((on) => within(on, fn)),
    write: async (fn) => {
      if (readOnly) throw new Error(`the store on ${where} was opened read-only`);
      const once = () => writes.add((on) => within(on, fn));
      let result;
      try {
        result = await once();
      } catch (err) {
        // Tried again once when nothing of it was stored: its connection was lost before the commit (the pool makes a
        // new one), or the server rolled it back to break a deadlock with another writer.
        if (!wasUndone(err) || !(isConnectionError(err) || isDeadlock(err))) throw err;
        result = await once();
      }
      changes.changed();
      indexer?.kick();
      return result;
    },
    health: async () => {
      try {
        const version = await schemaVersion(sql);
        return { open: true, schemaVersion: version, schemaCurrent: version === latestVersion() };
      } catch {
        return { open: false, schemaVersion: 0, schemaCurrent: false };
      }
    },
    size: async () => (await sql.query<{ bytes: number }>(`SELECT pg_database_size(current_database()) AS bytes`))[0]!.bytes,
    tagsByTopic: () => sql.query<{ topic: string; count: number }>(`SELECT topic_id AS topic, count(*) AS count FROM item_topics GROUP BY topic_id ORDER BY topic_id`),
    close: async () => {
      await indexer?.close();
      await changes.close();
      await pool.end().catch(() => {});
    },
  };
  counters.set(store, () => statements);
  return store;
}

/** A read-only store waits for a writer to bring the schema up to this newsloom's version, saying so. */
async function waitForSchema(sql: Sql, where: string, timeoutMs: number, onWait: (message: string) => void): Promise<void> {
  const latest = latestVersion();
  const start = Date.now();
  for (let wait = 1_000; ; wait = Math.min(wait * 2, 5_000)) {
    const version = await schemaVersion(sql);
    if (version >= latest) return;
    const message = `PostgreSQL at ${where} has schema version ${version} and this newsloom needs ${latest}: a read-only store does not migrate, waiting for a poller to`;
    if (Date.now() - start + wait > timeoutMs) throw new OperatorError(message);
    onWait(message);
    await sleep(wait);
  }
}
