// The search words of new and edited items, written after the transaction that stored them (migration 4): a writer's
// commits queue their items in search_pending (by triggers), and this indexer, one per writer process, takes the queue
// in batches on a connection of its own: each batch one statement that deletes its rows from the queue and writes
// their words into item_search. Several writers share the queue (FOR UPDATE SKIP LOCKED: each row goes to one).
// Nothing waits for it: a search computes the words of the items still queued (items.ts), so it finds every committed
// item either way, and a process killed mid-batch leaves its rows queued (its statement never committed).
import type { Sql } from './db.ts';
import { isConnectionError } from './errors.ts';
import { itemWords } from './search.ts';

/** Items a batch indexes: a statement of a few tens of milliseconds, so that a poll's commit never waits long behind one. */
const BATCH = 500;

/** After a failed batch (the server restarting), the next attempt. */
const RETRY_MS = 5_000;

/** A batch: its queued rows taken and, of the items still stored, their words written. */
const INDEX_BATCH = `WITH taken AS (
    DELETE FROM search_pending WHERE item_id IN (SELECT item_id FROM search_pending ORDER BY item_id LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING item_id
  ), written AS (
    INSERT INTO item_search (item_id, search)
      SELECT i.id, ${itemWords('i')} FROM taken JOIN items i ON i.id = taken.item_id
      ON CONFLICT (item_id) DO UPDATE SET search = excluded.search
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM taken) AS taken`;

/** Items queued and not indexed yet (by any writer). */
export async function searchBacklog(sql: Sql): Promise<number> {
  return (await sql.query<{ n: number }>(`SELECT count(*) AS n FROM search_pending`))[0]!.n;
}

/** SQLSTATE of a foreign key violation: an item of the batch was deleted (pruned) while the batch ran. */
const FOREIGN_KEY_VIOLATION = '23503';

export class SearchIndexer {
  private running: Promise<void> | undefined;
  /** Asked to run again while running: what it was asked after may have been committed after its last batch began. */
  private again = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** What made the last batch fail, if it did. */
  private failed: Error | undefined;

  private readonly sql: Sql;
  private readonly onError: (message: string) => void;

  constructor(sql: Sql, onError: (message: string) => void = () => {}) {
    this.sql = sql;
    this.onError = onError;
  }

  /** Indexes what is queued, in the background (after a commit). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) this.kick();
    });
  }

  /**
   * Resolves once everything queued before the call is indexed (by this process or another, whose batch under way it
   * waits for); rejects when a batch fails.
   */
  async settled(): Promise<void> {
    for (;;) {
      this.failed = undefined;
      this.kick();
      while (this.running) await this.running;
      const failed = this.lastFailure();
      if (failed) throw failed;
      if (this.closed || (await this.backlog()) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private lastFailure(): Error | undefined {
    return this.failed;
  }

  /** Items queued and not indexed yet. */
  backlog(): Promise<number> {
    return searchBacklog(this.sql);
  }

  /** Stops after the batch under way. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.running;
  }

  private async drain(): Promise<void> {
    this.again = false;
    for (let conflicts = 0; !this.closed; ) {
      let taken: number;
      try {
        taken = (await this.sql.query<{ taken: number }>(INDEX_BATCH, [BATCH]))[0]!.taken;
      } catch (err) {
        // An item pruned meanwhile: the batch is taken again, without it.
        if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION && ++conflicts < 3) continue;
        this.failed = err instanceof Error ? err : new Error(String(err));
        this.onError(`${isConnectionError(err) ? 'PostgreSQL cannot be reached' : 'failed'}: ${(err as Error).message}; the search words of new items are computed at each search meanwhile`);
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.kick(), RETRY_MS);
        this.retry.unref();
        return;
      }
      conflicts = 0;
      if (taken < BATCH) return;
    }
  }
}
