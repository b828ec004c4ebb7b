// Group commit on PostgreSQL: the writes that arrive while a commit is under way (polls that finished meanwhile) are
// committed together in the next transaction, each in a savepoint of its own, on one connection: one commit's
// round trip and flush for many polls. A write whose savepoint failed is undone alone; if the transaction itself is
// lost (the connection dropped before COMMIT was sent) every write of it is, and can safely be tried again.
import type pg from 'pg';
import type { Sql } from './db.ts';
import { isConnectionError } from './errors.ts';

interface Waiting {
  fn: (sql: Sql) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** Errors after which nothing of the write was stored: a retry cannot store anything twice. */
const undone = new WeakSet<object>();

/** Whether this error of a write left nothing of it stored (its transaction or its savepoint was rolled back). */
export function wasUndone(err: unknown): boolean {
  return typeof err === 'object' && err !== null && undone.has(err);
}

export class GroupCommit {
  private readonly checkout: () => Promise<pg.PoolClient>;
  private readonly on: (client: pg.PoolClient) => Sql;
  private readonly aborted: () => void;
  private waiting: Waiting[] = [];
  private running: Promise<void> | undefined;

  /** `aborted`: told when a transaction is rolled back or lost, every write of it with it. */
  constructor(checkout: () => Promise<pg.PoolClient>, on: (client: pg.PoolClient) => Sql, aborted: () => void = () => {}) {
    this.checkout = checkout;
    this.on = on;
    this.aborted = aborted;
  }

  add<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      // The first write waiting starts a commit once the I/O callbacks of this turn of the loop (other polls' answers)
      // have queued theirs; while one runs, the writes that arrive wait for the next.
      if (this.waiting.length === 1 && !this.running) setImmediate(() => this.next());
    });
  }

  private next(): void {
    if (this.running || this.waiting.length === 0) return;
    this.running = this.commit().finally(() => {
      this.running = undefined;
      this.next();
    });
  }

  private async commit(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    let client: pg.PoolClient;
    try {
      client = await this.checkout();
    } catch (err) {
      if (typeof err === 'object' && err !== null) undone.add(err);
      for (const write of batch) write.reject(err);
      return;
    }
    const sql = this.on(client);
    let committing = false;
    // A write alone in its transaction needs no savepoint: rolling the transaction back undoes it alone. Otherwise
    // each write has one, and the statements between two writes (release the one, open the next) go in one round trip,
    // as do BEGIN and the first savepoint, and the last release and COMMIT.
    const alone = batch.length === 1;
    /** A savepoint is open (the current write's, or the last one's not yet released). */
    let open = !alone;
    /** The lone write itself failed: the transaction is rolled back as its savepoint would have been. */
    let failedAlone = false;
    try {
      await sql.query(alone ? 'BEGIN' : 'BEGIN; SAVEPOINT write');
      for (const [i, write] of batch.entries()) {
        if (i > 0) await sql.query(open ? 'RELEASE SAVEPOINT write; SAVEPOINT write' : 'SAVEPOINT write');
        open = !alone;
        try {
          outcomes.push({ ok: true, value: await write.fn(sql) });
        } catch (err) {
          if (isConnectionError(err)) throw err;
          if (typeof err === 'object' && err !== null) undone.add(err);
          if (alone) {
            failedAlone = true;
            throw err;
          }
          await sql.query('ROLLBACK TO SAVEPOINT write; RELEASE SAVEPOINT write');
          open = false;
          outcomes.push({ ok: false, value: err });
        }
      }
      committing = true;
      await sql.query(open ? 'RELEASE SAVEPOINT write; COMMIT' : 'COMMIT');
    } catch (err) {
      const lost = isConnectionError(err);
      if (!lost) await sql.query('ROLLBACK').catch(() => {});
      // The lone write's own failure undid only what it wrote (and it said so itself); anything else undid every write.
      if (!failedAlone) this.aborted();
      // Lost before COMMIT was sent: the server rolled it all back. Lost during COMMIT: it may have been applied.
      if (!committing && typeof err === 'object' && err !== null) undone.add(err);
      client.release(lost ? (err as Error) : undefined);
      for (const write of batch) write.reject(err);
      return;
    }
    client.release();
    batch.forEach((write, i) => (outcomes[i]!.ok ? write.resolve(outcomes[i]!.value) : write.reject(outcomes[i]!.value)));
  }
}
