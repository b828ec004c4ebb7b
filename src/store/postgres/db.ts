// The connection pool to PostgreSQL (node-postgres), the one way this engine's stores run SQL (`Sql`), and opening it:
// waiting, with backoff, for a server that is not up yet, and never showing the password of the URL in a message.
import pg from 'pg';
import { OperatorError } from '../../operator-error.ts';
import { engineError, isConnectionError } from './errors.ts';

/** What the engine's stores run their SQL on: the pool (each statement on any connection) or one transaction's connection. */
export interface Sql {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface PoolSettings {
  url: string;
  password?: string | undefined;
  pool: number;
  /** Every transaction read-only (a web replica, a hot standby): the server refuses any write. */
  readOnly?: boolean;
}

// Counts and ids come back as JavaScript numbers: bigint columns hold epoch milliseconds and row ids, far below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8 || oid === NUMERIC ? Number : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as typeof pg.types.getTypeParser,
};

/** The URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/**
 * The URL to connect with: the configured one, with storage.password in it when it has none (the driver takes a URL's
 * fields over separate settings, its missing password included).
 */
export function connectionUrl(settings: Pick<PoolSettings, 'url' | 'password'>): string {
  if (settings.password === undefined) return settings.url;
  const url = new URL(settings.url);
  if (!url.password) url.password = encodeURIComponent(settings.password);
  return url.toString();
}

export function createPool(settings: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: connectionUrl(settings),
    max: settings.pool,
    types,
    // A connection that stops answering is given up rather than waited on for ever (the pool makes a new one).
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    application_name: 'newsloom',
    ...(settings.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  // An idle connection that dies (the server restarted) is dropped by the pool; without a listener the error would end the process.
  pool.on('error', () => {});
  return pool;
}

/**
 * Statements with parameters are prepared once per connection, by a name per text: the server then parses and plans a
 * poll's inserts once, not at each of thousands of rows (parsing and planning cost more than most of them take to run).
 * The texts are the engine's own, a few dozen shapes.
 */
const names = new Map<string, string>();

function queryConfig(text: string, params: readonly unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text };
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `newsloom_${names.size}`));
  return { name, text, values: params as unknown[] };
}

const guarded = new WeakSet<pg.PoolClient>();

/**
 * A connection of the pool for a transaction. A connection lost while checked out between two statements would emit
 * an error nobody listens to (ending the process); with a listener, its next statement fails instead, as a connection
 * error that the store answers (the write is undone, and tried again).
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect().catch((err: unknown) => {
    throw engineError(err);
  });
  if (!guarded.has(client)) {
    guarded.add(client);
    client.on('error', () => {});
  }
  return client;
}

/** Runs on the pool, counting statements for the engine's debug hook. */
export function poolSql(pool: pg.Pool, counted: () => void): Sql {
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []) => {
      counted();
      try {
        return (await pool.query(queryConfig(text, params))).rows as Row[];
      } catch (err) {
        throw engineError(err);
      }
    },
  };
}

/** Runs on one checked-out connection (a transaction's). */
export function clientSql(client: pg.PoolClient, counted: () => void): Sql {
  return {
    query: async <Row>(text: string, params: readonly unknown[] = []) => {
      counted();
      try {
        return (await client.query(queryConfig(text, params))).rows as Row[];
      } catch (err) {
        throw engineError(err);
      }
    },
  };
}

/** A report newsloom_flush filed: its item, its story, and the seq of its print (migrations.ts 3). */
export interface Filed {
  item: number;
  story: number;
  seq: number;
}

/** Rows a transaction has written but not sent yet (Deferring): new items (with `tags`), then reports filed under stories. */
export interface Pending {
  items: Record<string, unknown>[];
  reports: Record<string, unknown>[];
}

/**
 * A transaction's Sql that holds back the rows whose writing nobody waits for (a new item whose id was reserved, a
 * report filed under its story) and sends them with the next statement: any statement first writes them
 * (newsloom_flush), and the candidate lookup takes them along in its own call. Storing a new item and filing it thus
 * costs two round trips (its id comes from a reserved block; its lookup carries the rows) instead of four.
 */
export class Deferring implements Sql {
  private readonly sql: Sql;
  private readonly reserve: (sql: Sql) => Promise<number>;
  private pending: Pending = { items: [], reports: [] };
  /** Told what a flush filed (the story store learns its reports' stories and seqs). */
  onFiled: ((filed: Filed[]) => void) | undefined;

  /** `reserve`: a new item's id, from a block of ids reserved in advance (shared by the store's transactions). */
  constructor(sql: Sql, reserve: (sql: Sql) => Promise<number>) {
    this.sql = sql;
    this.reserve = reserve;
  }

  nextItemId(): Promise<number> {
    return this.reserve(this.sql);
  }

  defer(kind: keyof Pending, row: Record<string, unknown>): void {
    this.pending[kind].push(row);
  }

  /** The rows pending, as newsloom_flush takes them (null: none), handed over to a statement that writes them itself. */
  take(): string | null {
    const { items, reports } = this.pending;
    if (items.length === 0 && reports.length === 0) return null;
    this.pending = { items: [], reports: [] };
    return JSON.stringify({ items, reports });
  }

  async flush(): Promise<void> {
    const pending = this.take();
    if (pending === null) return;
    const filed = await this.sql.query<Filed>(`SELECT filed_item AS item, filed_story AS story, filed_seq AS seq FROM newsloom_flush($1::jsonb)`, [pending]);
    if (filed.length > 0) this.onFiled?.(filed);
  }

  async query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    await this.flush();
    return this.sql.query<Row>(text, params);
  }
}

/** First wait after PostgreSQL could not be reached at start, doubled after each try up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Waits until the server takes a connection: while it cannot be reached (not started yet, restarting) it is tried
 * again after 1 s, 2 s, 4 s… up to 30 s between tries, telling `onRetry` each time, until `timeoutMs` has passed.
 * Any other failure (a wrong password, a database that does not exist) is thrown at once: waiting would not help.
 */
export async function waitForServer(pool: pg.Pool, url: string, timeoutMs: number, onRetry: (message: string) => void): Promise<void> {
  const start = Date.now();
  for (let wait = RETRY_FIRST_MS; ; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      const message = `PostgreSQL at ${redactUrl(url)} cannot be reached: ${(err as Error).message}`;
      if (!isConnectionError(err)) throw new OperatorError(`PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
      const left = timeoutMs - (Date.now() - start);
      if (left <= 0) throw new OperatorError(message, { cause: err });
      const next = Math.min(wait, left);
      onRetry(`${message}; trying again in ${Math.ceil(next / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, next));
    }
  }
}
