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
}

export interface SourceHealth extends SourceState {
  itemCount: number;
  lastItemAt: number | null;
}

const COLUMNS = `s.id, s.url, s.title, s.site_url AS siteUrl, s.etag, s.last_modified AS lastModified, s.last_fetch_at AS lastFetchAt,
  s.last_success_at AS lastSuccessAt, s.next_poll_at AS nextPollAt, s.error_kind AS errorKind, s.error_message AS errorMessage,
  s.error_count AS errorCount, s.first_error_at AS firstErrorAt, s.last_error_at AS lastErrorAt`;

export class SourceStore {
  private readonly db: Db;
  private readonly statements;

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      get: db.prepare<[string], SourceState>(`SELECT ${COLUMNS} FROM sources s WHERE s.id = ?`),
      upsert: db.prepare<{ id: string; url: string }>(
        // A changed URL invalidates the validators the old one gave.
        `INSERT INTO sources (id, url) VALUES (@id, @url)
         ON CONFLICT(id) DO UPDATE SET url = excluded.url,
           etag = CASE WHEN url = excluded.url THEN etag END,
           last_modified = CASE WHEN url = excluded.url THEN last_modified END`,
      ),
      success: db.prepare(
        `UPDATE sources SET last_fetch_at = @now, last_success_at = @now, etag = coalesce(@etag, etag),
           last_modified = coalesce(@lastModified, last_modified), title = coalesce(@title, title), site_url = coalesce(@siteUrl, site_url),
           error_kind = NULL, error_message = NULL, error_count = 0, first_error_at = NULL
         WHERE id = @id`,
      ),
      failure: db.prepare(
        `UPDATE sources SET last_fetch_at = @now, error_kind = @kind, error_message = @message, error_count = error_count + 1,
           first_error_at = coalesce(first_error_at, @now), last_error_at = @now
         WHERE id = @id`,
      ),
      schedule: db.prepare(`UPDATE sources SET next_poll_at = @at WHERE id = @id`),
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

  recordSuccess(id: string, now: number, fields: { etag: string | null; lastModified: string | null; title?: string | null; siteUrl?: string | null }): void {
    this.statements.success.run({ id, now, etag: fields.etag, lastModified: fields.lastModified, title: fields.title ?? null, siteUrl: fields.siteUrl ?? null });
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
