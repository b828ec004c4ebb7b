// Sources and their fetch state (conditional-request validators, schedule, health).
import { REDIRECTS_TO_MOVE, type SourceHealth, type SourceState, type SourceStore as Sources } from '../store.ts';
import type { Db } from './db.ts';

const COLUMNS = `s.id, s.url, s.title, s.site_url AS siteUrl, s.etag, s.last_modified AS lastModified, s.last_fetch_at AS lastFetchAt,
  s.last_success_at AS lastSuccessAt, s.next_poll_at AS nextPollAt, s.error_kind AS errorKind, s.error_message AS errorMessage,
  s.error_count AS errorCount, s.first_error_at AS firstErrorAt, s.last_error_at AS lastErrorAt, s.moved_url AS movedUrl,
  s.redirect_url AS redirectUrl, s.redirect_count AS redirectCount, s.ttl_ms AS ttlMs`;

export class SourceStore implements Sources {
  private readonly db: Db;
  private readonly statements;

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      get: db.prepare<[string], SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id = ?`),
      some: db.prepare<[string], SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id IN (SELECT value FROM json_each(?))`),
      upsert: db.prepare<{ id: string; url: string }>(
        // A changed URL invalidates the validators the old one gave, and any move we tracked for it.
        `INSERT INTO sources (id, url) VALUES (@id, @url)
         ON CONFLICT(id) DO UPDATE SET url = excluded.url,
           etag = CASE WHEN url = excluded.url THEN etag END,
           last_modified = CASE WHEN url = excluded.url THEN last_modified END,
           moved_url = CASE WHEN url = excluded.url THEN moved_url END,
           redirect_url = CASE WHEN url = excluded.url THEN redirect_url END,
           redirect_count = CASE WHEN url = excluded.url THEN redirect_count ELSE 0 END`,
      ),
      success: db.prepare(
        `UPDATE sources SET last_fetch_at = @now, last_success_at = @now, etag = coalesce(@etag, etag),
           last_modified = coalesce(@lastModified, last_modified), title = coalesce(@title, title), site_url = coalesce(@siteUrl, site_url),
           ttl_ms = CASE WHEN @parsed THEN @ttlMs ELSE ttl_ms END, error_kind = NULL, error_message = NULL, error_count = 0, first_error_at = NULL
         WHERE id = @id`,
      ),
      failure: db.prepare(
        `UPDATE sources SET last_fetch_at = @now, error_kind = @kind, error_message = @message, error_count = error_count + 1,
           first_error_at = coalesce(first_error_at, @now), last_error_at = @now
         WHERE id = @id`,
      ),
      schedule: db.prepare(`UPDATE sources SET next_poll_at = @at WHERE id = @id`),
      redirect: db.prepare(`UPDATE sources SET redirect_url = @to, redirect_count = @count, moved_url = coalesce(@moved, moved_url) WHERE id = @id`),
      activity: db.prepare<[string, number], { count: number; oldest: number | null; newest: number | null }>(
        `SELECT count(*) AS count, min(published_at) AS oldest, max(published_at) AS newest FROM items WHERE source_id = ? AND published_at > ?`,
      ),
      health: db.prepare<[], SourceHealth>(
        `SELECT ${COLUMNS}, count(i.id) AS itemCount, max(i.published_at) AS lastItemAt
         FROM sources s LEFT JOIN items i ON i.source_id = s.id GROUP BY s.id ORDER BY s.id`,
      ),
    };
  }

  async get(id: string): Promise<SourceState | undefined> {
    return this.statements.get.get(id);
  }

  async getMany(ids: string[]): Promise<Map<string, SourceState>> {
    return new Map(ids.length ? this.statements.some.all(JSON.stringify(ids)).map((state) => [state.id, state]) : []);
  }

  async sync(sources: { id: string; url: string }[]): Promise<void> {
    this.db.transaction(() => {
      for (const source of sources) this.statements.upsert.run({ id: source.id, url: source.url });
    })();
  }

  async recordSuccess(
    id: string,
    now: number,
    fields: { etag: string | null; lastModified: string | null; title?: string | null; siteUrl?: string | null; ttlMs?: number | null },
  ): Promise<void> {
    this.statements.success.run({
      id,
      now,
      etag: fields.etag,
      lastModified: fields.lastModified,
      title: fields.title ?? null,
      siteUrl: fields.siteUrl ?? null,
      parsed: fields.ttlMs === undefined ? 0 : 1,
      ttlMs: fields.ttlMs ?? null,
    });
  }

  async trackRedirect(id: string, to: string | null): Promise<string | null> {
    const state = this.statements.get.get(id);
    if (!state || (to === null && state.redirectCount === 0)) return null;
    const count = to === null ? 0 : to === state.redirectUrl ? state.redirectCount + 1 : 1;
    const moved = count >= REDIRECTS_TO_MOVE && to !== state.movedUrl ? to : null;
    this.statements.redirect.run({ id, to, count, moved });
    return moved;
  }

  async activity(id: string, since: number): Promise<{ count: number; oldest: number | null; newest: number | null }> {
    return this.statements.activity.get(id, since)!;
  }

  async recordFailure(id: string, now: number, kind: string, message: string): Promise<void> {
    this.statements.failure.run({ id, now, kind, message });
  }

  async scheduleNext(id: string, at: number): Promise<void> {
    this.statements.schedule.run({ id, at });
  }

  async health(): Promise<SourceHealth[]> {
    return this.statements.health.all();
  }
}
