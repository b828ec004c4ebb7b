// Article fetches still to do: items of full-text sources whose page could not be fetched (or not yet).
import type { Db } from './db.ts';

export interface PendingArticle {
  itemUid: string;
  sourceId: string;
  url: string;
  /** Failed attempts so far. */
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export class ArticleStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      due: db.prepare<[string, number], PendingArticle & { itemId: number | null }>(
        `SELECT a.item_uid AS itemUid, a.source_id AS sourceId, a.url, a.attempts, a.next_attempt_at AS nextAttemptAt,
           a.last_error AS lastError, i.id AS itemId
         FROM article_fetches a LEFT JOIN items i ON i.uid = a.item_uid
         WHERE a.source_id = ? AND a.next_attempt_at <= ? ORDER BY a.next_attempt_at`,
      ),
      upsert: db.prepare<PendingArticle>(
        `INSERT INTO article_fetches (item_uid, source_id, url, attempts, next_attempt_at, last_error)
         VALUES (@itemUid, @sourceId, @url, @attempts, @nextAttemptAt, @lastError)
         ON CONFLICT(item_uid) DO UPDATE SET url = excluded.url, attempts = excluded.attempts,
           next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
      ),
      anyDue: db.prepare<[string, number], { one: number }>(`SELECT 1 AS one FROM article_fetches WHERE source_id = ? AND next_attempt_at <= ? LIMIT 1`),
      remove: db.prepare<[string]>(`DELETE FROM article_fetches WHERE item_uid = ?`),
    };
  }

  /** The source's pending fetches that are due, with the stored item's row id (null when it was never stored). */
  due(sourceId: string, now: number): (PendingArticle & { itemId: number | null })[] {
    return this.statements.due.all(sourceId, now);
  }

  anyDue(sourceId: string, now: number): boolean {
    return this.statements.anyDue.get(sourceId, now) !== undefined;
  }

  record(pending: PendingArticle): void {
    this.statements.upsert.run(pending);
  }

  remove(itemUid: string): void {
    this.statements.remove.run(itemUid);
  }
}
