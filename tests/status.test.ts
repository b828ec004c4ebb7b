import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import type { SourceStatus } from '../src/publish/status.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

describe.each(ENGINES)('source health at /status (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    server.set('/gone.xml', { status: 410 });
    setup = testConfig(`
sources:
  - { id: tass-en, title: TASS, url: "${server.url}/tass-en.xml" }
  - { id: gone, url: "${server.url}/gone.xml" }
  - { id: off, url: "${server.url}/off.xml", enabled: false }
`, use.storage());
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('serves each source\'s last success, error with its count and time, and items as JSON', async () => {
    for (const source of daemon.context.config.sources.slice(0, 2)) await pollSource(daemon.context, source);
    await pollSource(daemon.context, daemon.context.config.sources[1]!);
    const response = await fetch(`${daemon.url}/status`);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { sources } = (await response.json()) as { sources: SourceStatus[] };
    expect(sources.map((s) => [s.id, s.state, s.items])).toEqual([
      ['tass-en', 'ok', 10],
      ['gone', 'error', 0],
      ['off', 'disabled', 0],
    ]);
    expect(sources[0]!.lastSuccessAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(sources[0]!.error).toBeNull();
    expect(sources[1]!.error).toMatchObject({ kind: 'gone', count: 2, message: expect.stringMatching(/^HTTP 410 Gone from .*: the feed is gone for good/) as string });
    expect(Date.parse(sources[1]!.error!.lastAt!)).toBeGreaterThanOrEqual(Date.parse(sources[1]!.error!.since!));

    // And how far the search index is: once its worker has caught up, every stored item is searchable.
    await daemon.context.store.search.settled();
    const { search } = (await (await fetch(`${daemon.url}/status`)).json()) as { search: { current: boolean; backlog: number } };
    expect(search).toEqual({ current: true, building: false, backlog: 0 });

    // The page at / shows the same health.
    const page = await (await fetch(`${daemon.url}/`)).text();
    expect(page).toContain('error: HTTP 410 Gone from');
  });
});
