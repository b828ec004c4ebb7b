import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { routeOf } from '../src/metrics.ts';
import type { PollResult } from '../src/pipeline/ingest.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

/** The value of one sample of the exposition text, e.g. sample(text, 'newsloom_fetches_total{source="a",outcome="ok"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(ENGINES)('health, readiness and metrics (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    server.set('/broken.xml', { body: 'not a feed' });
    setup = testConfig(`
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }
  - { id: broken, url: "${server.url}/broken.xml", every: 1h }
  - { id: resting, url: "${server.url}/broken.xml", enabled: false }
topics:
  - { id: kazakhstan, any: [Kazakhstan, Astana, Tokayev] }
  - { id: csto, any: [CSTO] }
outputs:
  - { id: kz, title: KZ, topics: [kazakhstan] }
`, use.storage());
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  const metrics = async () => {
    const response = await fetch(`${daemon.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    return response.text();
  };

  it('is ready only once the scheduler runs, and says which check fails', async () => {
    const before = await fetch(`${daemon.url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'not ready', database: true, migrations: true, scheduler: false });
    daemon.scheduler.start();
    const after = await fetch(`${daemon.url}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: 'ready', database: true, migrations: true, scheduler: true });
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
  });

  it('counts polls by source and outcome, items, failing sources and applied tags', async () => {
    daemon.scheduler.start();
    const until = async (check: (text: string) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const text = await metrics();
        if (check(text)) return text;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('the polls did not show in the metrics');
    };
    const text = await until((t) => sample(t, 'newsloom_fetches_total{source="broken",outcome="error"}') === 1 && sample(t, 'newsloom_fetches_total{source="tass-en",outcome="ok"}') === 1);
    expect(sample(text, 'newsloom_fetch_errors_total{source="broken",kind="not-a-feed"}')).toBe(1);
    expect(sample(text, 'newsloom_items_ingested_total{source="tass-en",change="new"}')).toBe(10);
    expect(sample(text, 'newsloom_fetch_duration_seconds_count{source="tass-en"}')).toBe(1);
    expect(sample(text, 'newsloom_sources_failing')).toBe(1);
    expect(sample(text, 'newsloom_source_consecutive_failures{source="broken"}')).toBe(1);
    expect(sample(text, 'newsloom_source_consecutive_failures{source="tass-en"}')).toBe(0);
    expect(text).not.toContain('source="resting"');
    const tagged = async (topic: string) => (await daemon.context.store.items.list({ topics: [topic], limit: 500 })).length;
    expect(await tagged('kazakhstan')).toBe(3);
    expect(sample(text, 'newsloom_tags_applied{topic="kazakhstan"}')).toBe(await tagged('kazakhstan'));
    expect(sample(text, 'newsloom_tags_applied{topic="csto"}')).toBe(await tagged('csto'));
    expect(sample(text, 'newsloom_database_bytes')).toBeGreaterThan(4096);
    // The 10 new items were queued for the search index; once the background thread has them, nothing is behind.
    await daemon.context.store.search.settled();
    expect(sample(await metrics(), 'newsloom_search_backlog')).toBe(0);
    // SQLite: two edits nobody told the thread about (it looks for such writes once a second): read at once, they are
    // behind. PostgreSQL indexes in the transaction that writes: nothing is ever behind.
    if (engine === 'sqlite') {
      connectionOf(daemon.context.store).prepare(`UPDATE items SET title = title || ' (updated)' WHERE id IN (SELECT id FROM items LIMIT 2)`).run();
      expect(sample(await daemon.metrics.render(), 'newsloom_search_backlog')).toBe(2);
    }
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts the items each poll merged into stories of other sources', async () => {
    const none: PollResult = { sourceId: 'tass-en', status: 'ok', new: 1, updated: 0, unchanged: 0, merged: 0, durationMs: 5 };
    daemon.metrics.observePoll({ ...none, new: 4, merged: 3 });
    daemon.metrics.observePoll(none);
    expect(sample(await metrics(), 'newsloom_duplicates_merged_total{source="tass-en"}')).toBe(3);
  });

  it('counts HTTP requests by route template and status, never by raw path', async () => {
    await fetch(`${daemon.url}/feeds/kz.atom`);
    await fetch(`${daemon.url}/feeds/kz.atom?x=1`);
    await fetch(`${daemon.url}/feeds/nope.atom`);
    await fetch(`${daemon.url}/feeds/kz.atom`, { method: 'POST' });
    await fetch(`${daemon.url}/readyz`);
    const text = await metrics();
    expect(sample(text, 'newsloom_http_requests_total{route="/feeds/{id}.atom",status="200"}')).toBe(2);
    expect(sample(text, 'newsloom_http_requests_total{route="not_found",status="404"}')).toBe(1);
    expect(sample(text, 'newsloom_http_requests_total{route="/feeds/{id}.atom",status="405"}')).toBe(1);
    expect(sample(text, 'newsloom_http_requests_total{route="/readyz",status="503"}')).toBe(1);
    expect(text).not.toContain('nope');
  });

  it('maps paths to a few route labels', () => {
    expect(routeOf('/', 200)).toBe('/');
    expect(routeOf('/topics/csto.rss', 200)).toBe('/topics/{id}.rss');
    expect(routeOf('/wp-login.php', 404)).toBe('not_found');
    expect(routeOf('/wp-login.php', 405)).toBe('other');
  });
});
