// Article fetches still to do: items of full-text sources whose page could not be fetched (or not yet).
import type { ArticleStore as Articles, PendingArticle } from '../store.ts';
import type { Db } from './db.ts';

export class ArticleStore implements Articles {
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

  async due(sourceId: string, now: number): Promise<(PendingArticle & { itemId: number | null })[]> {
    return this.statements.due.all(sourceId, now);
  }

  async anyDue(sourceId: string, now: number): Promise<boolean> {
    return this.statements.anyDue.get(sourceId, now) !== undefined;
  }

  async record(pending: PendingArticle): Promise<void> {
    this.statements.upsert.run(pending);
  }

  async remove(itemUid: string): Promise<void> {
    this.statements.remove.run(itemUid);
  }
}
