// Sources and their fetch state (conditional-request validators, schedule, health) on PostgreSQL.
import { REDIRECTS_TO_MOVE, type SourceHealth, type SourceState, type SourceStore as Sources } from '../store.ts';
import type { Sql } from './db.ts';

const COLUMNS = `s.id, s.url, s.title, s.site_url AS "siteUrl", s.etag, s.last_modified AS "lastModified", s.last_fetch_at AS "lastFetchAt",
  s.last_success_at AS "lastSuccessAt", s.next_poll_at AS "nextPollAt", s.error_kind AS "errorKind", s.error_message AS "errorMessage",
  s.error_count AS "errorCount", s.first_error_at AS "firstErrorAt", s.last_error_at AS "lastErrorAt", s.moved_url AS "movedUrl",
  s.redirect_url AS "redirectUrl", s.redirect_count AS "redirectCount", s.ttl_ms AS "ttlMs"`;

type Redirects = Pick<SourceState, 'redirectUrl' | 'redirectCount' | 'movedUrl'>;

export class SourceStore implements Sources {
  private readonly sql: Sql;
  /**
   * What recordSuccess's update read back of a source's redirects, for the trackRedirect that follows it in the same
   * write (the row locked by the update meanwhile): that one then needs no statement of its own to read them, and none
   * at all when there is nothing to track. Taken once.
   */
  private readonly redirects = new Map<string, Redirects>();

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async get(id: string): Promise<SourceState | undefined> {
    return (await this.sql.query<SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id = $1`, [id]))[0];
  }

  async getMany(ids: string[]): Promise<Map<string, SourceState>> {
    if (ids.length === 0) return new Map();
    const rows = await this.sql.query<SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id = ANY($1::text[])`, [ids]);
    return new Map(rows.map((state) => [state.id, state]));
  }

  /** One statement for all of them; a changed URL invalidates the validators the old one gave, and any move tracked for it. */
  async sync(sources: { id: string; url: string }[]): Promise<void> {
    if (sources.length === 0) return;
    await this.sql.query(
      `INSERT INTO sources AS s (id, url) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (id) DO UPDATE SET url = excluded.url,
         etag = CASE WHEN s.url = excluded.url THEN s.etag END,
         last_modified = CASE WHEN s.url = excluded.url THEN s.last_modified END,
         moved_url = CASE WHEN s.url = excluded.url THEN s.moved_url END,
         redirect_url = CASE WHEN s.url = excluded.url THEN s.redirect_url END,
         redirect_count = CASE WHEN s.url = excluded.url THEN s.redirect_count ELSE 0 END
       WHERE s.url IS DISTINCT FROM excluded.url`,
      [sources.map((s) => s.id), sources.map((s) => s.url)],
    );
  }

  async recordSuccess(
    id: string,
    now: number,
    fields: { etag: string | null; lastModified: string | null; title?: string | null; siteUrl?: string | null; ttlMs?: number | null },
  ): Promise<void> {
    const [row] = await this.sql.query<Redirects>(
      `UPDATE sources SET last_fetch_at = $2, last_success_at = $2, etag = coalesce($3, etag), last_modified = coalesce($4, last_modified),
         title = coalesce($5, title), site_url = coalesce($6, site_url), ttl_ms = CASE WHEN $7 THEN $8::bigint ELSE ttl_ms END,
         error_kind = NULL, error_message = NULL, error_count = 0, first_error_at = NULL
       WHERE id = $1
       RETURNING redirect_url AS "redirectUrl", redirect_count AS "redirectCount", moved_url AS "movedUrl"`,
      [id, now, fields.etag, fields.lastModified, fields.title ?? null, fields.siteUrl ?? null, fields.ttlMs !== undefined, fields.ttlMs ?? null],
    );
    if (row) this.redirects.set(id, row);
  }

  async trackRedirect(id: string, to: string | null): Promise<string | null> {
    const read = this.redirects.get(id);
    this.redirects.delete(id);
    const state = read ?? (await this.get(id));
    if (!state || (to === null && state.redirectCount === 0)) return null;
    const count = to === null ? 0 : to === state.redirectUrl ? state.redirectCount + 1 : 1;
    const moved = count >= REDIRECTS_TO_MOVE && to !== state.movedUrl ? to : null;
    await this.sql.query(`UPDATE sources SET redirect_url = $2, redirect_count = $3, moved_url = coalesce($4, moved_url) WHERE id = $1`, [id, to, count, moved]);
    return moved;
  }

  async activity(id: string, since: number): Promise<{ count: number; oldest: number | null; newest: number | null }> {
    const [row] = await this.sql.query<{ count: number; oldest: number | null; newest: number | null }>(
      `SELECT count(*) AS count, min(published_at) AS oldest, max(published_at) AS newest FROM items WHERE source_id = $1 AND published_at > $2`,
      [id, since],
    );
    return row!;
  }

  async recordFailure(id: string, now: number, kind: string, message: string): Promise<void> {
    await this.sql.query(
      `UPDATE sources SET last_fetch_at = $2, error_kind = $3, error_message = $4, error_count = error_count + 1,
         first_error_at = coalesce(first_error_at, $2), last_error_at = $2
       WHERE id = $1`,
      [id, now, kind, message],
    );
  }

  async scheduleNext(id: string, at: number): Promise<void> {
    await this.sql.query(`UPDATE sources SET next_poll_at = $2 WHERE id = $1`, [id, at]);
  }

  async health(): Promise<SourceHealth[]> {
    return this.sql.query<SourceHealth>(
      `SELECT ${COLUMNS}, count(i.id) AS "itemCount", max(i.published_at) AS "lastItemAt"
       FROM sources s LEFT JOIN items i ON i.source_id = s.id GROUP BY s.id ORDER BY s.id`,
    );
  }
}
