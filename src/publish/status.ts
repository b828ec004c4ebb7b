// Each configured source's health as plain data: served as JSON at /status and printed by `newsloom sources`.
import type { Config } from '../config/schema.ts';
import type { SourceHealth } from '../store/store.ts';

export interface SourceStatus {
  id: string;
  title: string;
  url: string;
  /** Where the url has moved for good, when newsloom follows a permanent redirect. */
  movedTo: string | null;
  state: 'ok' | 'error' | 'disabled' | 'not polled yet';
  lastSuccessAt: string | null;
  lastFetchAt: string | null;
  nextPollAt: string | null;
  error: { kind: string; message: string; count: number; since: string | null; lastAt: string | null } | null;
  items: number;
  lastItemAt: string | null;
}

export function sourceStatus(config: Config, health: SourceHealth[]): SourceStatus[] {
  const byId = new Map(health.map((h) => [h.id, h]));
  return config.sources.map((source) => {
    const h = byId.get(source.id);
    const current = h?.url === source.url ? h : undefined;
    const failing = current?.errorKind != null && current.errorCount > 0;
    return {
      id: source.id,
      title: source.title ?? current?.title ?? source.id,
      url: source.url,
      movedTo: current?.movedUrl ?? null,
      state: !source.enabled ? 'disabled' : failing ? 'error' : current?.lastSuccessAt ? 'ok' : 'not polled yet',
      lastSuccessAt: iso(current?.lastSuccessAt),
      lastFetchAt: iso(current?.lastFetchAt),
      nextPollAt: source.enabled ? iso(current?.nextPollAt) : null,
      error: failing
        ? { kind: current.errorKind!, message: current.errorMessage ?? '', count: current.errorCount, since: iso(current.firstErrorAt), lastAt: iso(current.lastErrorAt) }
        : null,
      items: h?.itemCount ?? 0,
      lastItemAt: iso(h?.lastItemAt),
    };
  });
}

function iso(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}
