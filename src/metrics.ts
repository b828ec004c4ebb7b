// Prometheus metrics (prom-client): what polls did, what the HTTP server answered, and gauges read from
// the store at scrape time. Each daemon has its own registry, so tests can run several side by side.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from './config/schema.ts';
import type { PollResult } from './pipeline/ingest.ts';
import type { Store } from './store/store.ts';

export interface Metrics {
  registry: Registry;
  /** Counts one poll of a source from its result. */
  observePoll(result: PollResult): void;
  /** Counts one HTTP request by its route (a template, never the raw path) and status. */
  observeRequest(path: string, status: number): void;
  /** The exposition text for /metrics. */
  render(): Promise<string>;
}

export function createMetrics(store: Store, config: () => Config): Metrics {
  const registry = new Registry();
  // Process and Node.js metrics, among them nodejs_eventloop_lag_seconds.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const fetches = new Counter({
    name: 'newsloom_fetches_total',
    help: 'Polls of a source, by outcome: ok, not_modified or error.',
    labelNames: ['source', 'outcome'],
    registers,
  });
  const fetchErrors = new Counter({
    name: 'newsloom_fetch_errors_total',
    help: 'Failed polls of a source, by error kind (dns, timeout, http, parse…).',
    labelNames: ['source', 'kind'],
    registers,
  });
  const fetchDuration = new Histogram({
    name: 'newsloom_fetch_duration_seconds',
    help: 'Time of one poll of a source, fetch to commit.',
    labelNames: ['source'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const items = new Counter({
    name: 'newsloom_items_ingested_total',
    help: 'Items stored by polls: new ones, and ones updated in place because their content changed.',
    labelNames: ['source', 'change'],
    registers,
  });
  const merged = new Counter({
    name: 'newsloom_duplicates_merged_total',
    help: 'Items recognised as another report of a stored story and merged into it.',
    labelNames: ['source'],
    registers,
  });
  new Gauge({
    name: 'newsloom_sources_failing',
    help: 'Enabled sources whose last poll failed.',
    registers,
    async collect() {
      const failures = await errorCounts(store, config());
      this.set([...failures.values()].filter((count) => count > 0).length);
    },
  });
  new Gauge({
    name: 'newsloom_source_consecutive_failures',
    help: 'Polls of a source that failed in a row (0 when its last poll succeeded).',
    labelNames: ['source'],
    registers,
    async collect() {
      const failures = await errorCounts(store, config());
      this.reset();
      for (const [source, count] of failures) this.set({ source }, count);
    },
  });
  const requests = new Counter({
    name: 'newsloom_http_requests_total',
    help: 'HTTP requests answered, by route and status.',
    labelNames: ['route', 'status'],
    registers,
  });
  new Gauge({
    name: 'newsloom_database_bytes',
    help: 'Size of the database in use (SQLite: the main file, without the WAL).',
    registers,
    async collect() {
      this.set(await store.size());
    },
  });
  new Gauge({
    name: 'newsloom_search_backlog',
    help: 'Changes to items the full-text index has still to take in (0: every stored item is searchable).',
    registers,
    async collect() {
      this.set((await store.search.progress()).backlog);
    },
  });
  new Gauge({
    name: 'newsloom_tags_applied',
    help: 'Stored items carrying each topic.',
    labelNames: ['topic'],
    registers,
    async collect() {
      const tags = await store.tagsByTopic();
      this.reset();
      for (const { topic, count } of tags) this.set({ topic }, count);
    },
  });

  return {
    registry,
    observePoll(result) {
      const source = result.sourceId;
      fetches.inc({ source, outcome: result.status === 'not-modified' ? 'not_modified' : result.status });
      if (result.error) fetchErrors.inc({ source, kind: result.error.kind });
      fetchDuration.observe({ source }, result.durationMs / 1_000);
      if (result.new > 0) items.inc({ source, change: 'new' }, result.new);
      if (result.updated > 0) items.inc({ source, change: 'updated' }, result.updated);
      if (result.merged > 0) merged.inc({ source }, result.merged);
    },
    observeRequest(path, status) {
      requests.inc({ route: routeOf(path, status), status: String(status) });
    },
    render: () => registry.metrics(),
  };
}

const FIXED_ROUTES = new Set(['/', '/healthz', '/readyz', '/metrics', '/feeds.opml']);
const FEED_ROUTE = /^\/(feeds|topics|sources)\/[^/]+\.([a-z]+)$/;

/** The route a path belongs to, so that label values stay few whatever paths clients ask for. */
export function routeOf(path: string, status: number): string {
  if (status === 404) return 'not_found';
  if (FIXED_ROUTES.has(path)) return path;
  const feed = FEED_ROUTE.exec(path);
  return feed ? `/${feed[1]}/{id}.${feed[2]}` : 'other';
}

/** The failed polls in a row of each enabled source. */
async function errorCounts(store: Store, config: Config): Promise<Map<string, number>> {
  const enabled = config.sources.filter((source) => source.enabled);
  const states = await Promise.all(enabled.map((source) => store.sources.get(source.id)));
  return new Map(enabled.map((source, i) => [source.id, states[i]?.errorCount ?? 0]));
}
