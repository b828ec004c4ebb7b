// Article fetches still to do on PostgreSQL: items of full-text sources whose page could not be fetched (or not yet).
import type { ArticleStore as Articles, PendingArticle } from '../store.ts';
import type { Sql } from './db.ts';

export class ArticleStore implements Articles {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async due(sourceId: string, now: number): Promise<(PendingArticle & { itemId: number | null })[]> {
    return this.sql.query<PendingArticle & { itemId: number | null }>(
      `SELECT a.item_uid AS "itemUid", a.source_id AS "sourceId", a.url, a.attempts, a.next_attempt_at AS "nextAttemptAt",
         a.last_error AS "lastError", i.id AS "itemId"
       FROM article_fetches a LEFT JOIN items i ON i.uid = a.item_uid
       WHERE a.source_id = $1 AND a.next_attempt_at <= $2 ORDER BY a.next_attempt_at`,
      [sourceId, now],
    );
  }

  async anyDue(sourceId: string, now: number): Promise<boolean> {
    return (await this.sql.query(`SELECT 1 FROM article_fetches WHERE source_id = $1 AND next_attempt_at <= $2 LIMIT 1`, [sourceId, now])).length > 0;
  }

  async record(pending: PendingArticle): Promise<void> {
    await this.sql.query(
      `INSERT INTO article_fetches (item_uid, source_id, url, attempts, next_attempt_at, last_error) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (item_uid) DO UPDATE SET url = excluded.url, attempts = excluded.attempts,
         next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
      [pending.itemUid, pending.sourceId, pending.url, pending.attempts, pending.nextAttemptAt, pending.lastError],
    );
  }

  async remove(itemUid: string): Promise<void> {
    await this.sql.query(`DELETE FROM article_fetches WHERE item_uid = $1`, [itemUid]);
  }
}
