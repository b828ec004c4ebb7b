// Sources and their fetch state (conditional-request validators, schedule, health).
import type { Db } from './db.ts';

export interface SourceState {
  id: string;
  url: string;
  title: string | null;
  siteUrl: string | null;
  etag: string | null;
  lastModified: string | null;
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  nextPollAt: number | null;
  errorKind: string | null;
  errorMessage: string | null;
  errorCount: number;
  firstErrorAt: number | null;
  lastErrorAt: number | null;
  /** Where the configured url has moved for good (after several permanent redirects in a row). */
  movedUrl: string | null;
  redirectUrl: string | null;
  redirectCount: number;
  /** The feed's own <ttl>, a floor for adaptive schedules. */
  ttlMs: number | null;
}

export interface SourceHealth extends SourceState {
  itemCount: number;
  lastItemAt: number | null;
}

const COLUMNS = `s.id, s.url, s.title, s.site_url AS siteUrl, s.etag, s.last_modified AS lastModified, s.last_fetch_at AS lastFetchAt,
  s.last_success_at AS lastSuccessAt, s.next_poll_at AS nextPollAt, s.error_kind AS errorKind, s.error_message AS errorMessage,
  s.error_count AS errorCount, s.first_error_at AS firstErrorAt, s.last_error_at AS lastErrorAt, s.moved_url AS movedUrl,
  s.redirect_url AS redirectUrl, s.redirect_count AS redirectCount, s.ttl_ms AS ttlMs`;

/** A permanent redirect seen on this many polls in a row moves the source to its new address. */
export const REDIRECTS_TO_MOVE = 3;

/** The address to fetch: where the configured url moved for good, as long as the config still names the old one. */
export function currentUrl(state: SourceState | undefined, configUrl: string): string {
  return state?.url === configUrl && state.movedUrl ? state.movedUrl : configUrl;
}

export class SourceStore {
  private readonly db: Db;
  private readonly statements;

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      get: db.prepare<[string], SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id = ?`),
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

  get(id: string): SourceState | undefined {
    return this.statements.get.get(id);
  }

  /** Makes sure every configured source has a row; called at start and on reload. */
  sync(sources: { id: string; url: string }[]): void {
    this.db.transaction(() => {
      for (const source of sources) this.statements.upsert.run({ id: source.id, url: source.url });
    })();
  }

  /** `ttlMs` is given when the feed was parsed (null: it has none) and left out for a 304. */
  recordSuccess(
    id: string,
    now: number,
    fields: { etag: string | null; lastModified: string | null; title?: string | null; siteUrl?: string | null; ttlMs?: number | null },
  ): void {
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

  /**
   * Counts a permanent redirect (or its absence) on a successful poll; when the same one has been seen
   * REDIRECTS_TO_MOVE times in a row, the source moves there. Returns the new address when it just moved.
   */
  trackRedirect(id: string, to: string | null): string | null {
    const state = this.get(id);
    if (!state || (to === null && state.redirectCount === 0)) return null;
    const count = to === null ? 0 : to === state.redirectUrl ? state.redirectCount + 1 : 1;
    const moved = count >= REDIRECTS_TO_MOVE && to !== state.movedUrl ? to : null;
    this.statements.redirect.run({ id, to, count, moved });
    return moved;
  }

  /** How many items a source published since a time, and the oldest and newest of their dates. */
  activity(id: string, since: number): { count: number; oldest: number | null; newest: number | null } {
    return this.statements.activity.get(id, since)!;
  }

  recordFailure(id: string, now: number, kind: string, message: string): void {
    this.statements.failure.run({ id, now, kind, message });
  }

  scheduleNext(id: string, at: number): void {
    this.statements.schedule.run({ id, at });
  }

  health(): SourceHealth[] {
    return this.statements.health.all();
  }
}
