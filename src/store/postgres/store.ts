// The PostgreSQL engine: a pool of connections (node-postgres) and the per-aggregate stores over it, behind the store's
// interface. Many processes share one database (pollers, web replicas): migrations run once under an advisory lock,
// stories are filed under locks on their band keys, and the change counters reach every process by LISTEN/NOTIFY.
import pg from 'pg';
import { OperatorError } from '../../operator-error.ts';
import type { Store, StoreOptions, Transaction } from '../store.ts';
import { ArticleStore } from './articles.ts';
import { ChangeWatcher } from './changes.ts';
import { clientSql, connectionUrl, createPool, poolSql, redactUrl, waitForServer, type PoolSettings, type Sql } from './db.ts';
import { isConnectionError, isDeadlock } from './errors.ts';
import { FingerprintStore } from './fingerprints.ts';
import { GroupCommit, wasUndone } from './group-commit.ts';
import { ItemStore } from './items.ts';
import { MetaStore } from './meta.ts';
import { latestVersion, migrate, schemaVersion } from './migrations.ts';
import { prune } from './prune.ts';
import { SourceStore } from './sources.ts';
import { StoryStore } from './stories.ts';

/** How long a one-shot command waits for PostgreSQL at start, unless told otherwise (the daemon waits for ever). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Statements each store of this engine has run: the engine's debug hook, for tests that count a page's statements. */
const counters = new WeakMap<Store, () => number>();

export function statementsRun(store: Store): number {
  const count = counters.get(store);
  if (!count) throw new Error('not a store of the PostgreSQL engine');
  return count();
}

function aggregates(sql: Sql, readOnly: boolean): Transaction {
  const stories = new StoryStore(sql);
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
  };
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
      const client = await pool.connect();
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

  /** fn in one transaction on one connection of the pool. */
  const inTransaction = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
    if (readOnly) throw new Error(`the store on ${where} was opened read-only`);
    const client = await pool.connect();
    const on = clientSql(client, counted);
    try {
      await on.query('BEGIN');
      const result = await fn(on);
      await on.query('COMMIT');
      client.release();
      changes.changed();
      return result;
    } catch (err) {
      const lost = isConnectionError(err);
      if (!lost) await on.query('ROLLBACK').catch(() => {});
      client.release(lost ? (err as Error) : undefined);
      throw err;
    }
  };
  const writes = new GroupCommit(
    () => pool.connect(),
    (client) => clientSql(client, counted),
  );
  const stores = aggregates(sql, readOnly);
  const store: Store = {
    ...stores,
    search: {
      // The search words are written by a trigger in the transaction that stores the item.
      settled: async () => {},
      progress: () => Promise.resolve({ current: true, building: false, backlog: 0 }),
      building: () => Promise.resolve(false),
    },
    generation: () => changes.generation(),
    prune: (options) => prune(inTransaction, options),
    optimize: async () => {
      if (!readOnly) await sql.query('ANALYZE');
    },
    transaction: (fn) => inTransaction((on) => fn(aggregates(on, false))),
    write: async (fn) => {
      if (readOnly) throw new Error(`the store on ${where} was opened read-only`);
      const once = () => writes.add((on) => fn(aggregates(on, false)));
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
