// Group commit: writes that arrive while the event loop is busy (polls that finished together) are committed in one
// transaction, each in a savepoint of its own. A commit writes every page the transaction touched to the write-ahead
// log, and many of those pages (indexes by date, the story tables) are shared by the items of
// several polls, so one commit for eight polls writes far fewer pages than eight commits.
import type { Db } from './db.ts';

interface Waiting {
  fn: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit {
  private readonly db: Db;
  /** Runs fn when no other transaction of the connection is open (they take turns). */
  private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Runs fn in a savepoint, undoing what the store keeps in memory when it fails. */
  private readonly savepoint: <T>(fn: () => Promise<T>) => Promise<T>;
  private readonly rolledBack: () => void;
  private waiting: Waiting[] = [];

  constructor(
    db: Db,
    exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
    savepoint: <T>(fn: () => Promise<T>) => Promise<T>,
    rolledBack: () => void,
  ) {
    this.db = db;
    this.exclusive = exclusive;
    this.savepoint = savepoint;
    this.rolledBack = rolledBack;
  }

  add<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The first write waiting schedules the commit: it runs once the I/O callbacks of this turn of the loop (other
      // polls' answers) have queued theirs.
      if (this.waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject }) === 1) setImmediate(() => void this.exclusive(() => this.commit()));
    });
  }

  private async commit(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.exec('BEGIN');
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: await this.savepoint(write.fn) });
        } catch (err) {
          // An error SQLite answers by rolling back the whole transaction (a full disk) takes every write of it along.
          if (!this.db.inTransaction) throw err;
          outcomes.push({ ok: false, value: err });
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.rolledBack();
      for (const write of batch) write.reject(err);
      return;
    }
    batch.forEach((write, i) => (outcomes[i]!.ok ? write.resolve(outcomes[i]!.value) : write.reject(outcomes[i]!.value)));
  }
}
