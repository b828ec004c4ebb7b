import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPipeline } from '../src/daemon.ts';
import { createLogger } from '../src/log.ts';
import { pollSource, type PipelineContext } from '../src/pipeline/ingest.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const tass = readFileSync(new URL('fixtures/tass-en.xml', import.meta.url));

describe.each(ENGINES)('redirects and retries (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;
  let logged: string[];

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/old.xml', { status: 301, headers: { location: '/new.xml' } });
    server.set('/new.xml', { body: tass });
    server.set('/elsewhere.xml', { status: 302, headers: { location: '/new.xml' } });
    for (let i = 0; i < 7; i++) server.set(`/hop/${i}`, { status: 308, headers: { location: `/hop/${i + 1}` } });
    server.set('/busy.xml', { status: 503, headers: { 'retry-after': new Date(Date.now() + 2 * 3_600_000).toUTCString() } });
    setup = testConfig(`
sources:
  - { id: moved, url: "${server.url}/old.xml" }
  - { id: temporary, url: "${server.url}/elsewhere.xml" }
  - { id: hops, url: "${server.url}/hop/0" }
  - { id: busy, url: "${server.url}/busy.xml", every: 5m }
`, use.storage());
    logged = [];
    const log = createLogger('warn', false);
    log.warn = ((_obj: object, msg: string) => void logged.push(msg)) as typeof log.warn;
    ctx = await openPipeline(setup.config, log);
  });

  afterEach(async () => {
    await ctx.store.close();
    await server.close();
    setup.cleanup();
  });

  const source = (id: string) => setup.config.sources.find((s) => s.id === id)!;
  const paths = () => server.requests.map((r) => r.path);

  it('moves a source to its new address after three permanent redirects in a row, and says so', async () => {
    for (let i = 0; i < 3; i++) expect(await pollSource(ctx, source('moved'))).toMatchObject({ status: i === 0 ? 'ok' : 'not-modified' });
    expect((await ctx.store.sources.get('moved'))!.movedUrl).toBe(`${server.url}/new.xml`);
    expect(logged).toContain(`moved: ${server.url}/old.xml has moved permanently to ${server.url}/new.xml; polling the new address (update the config)`);
    server.requests.length = 0;
    await pollSource(ctx, source('moved'));
    expect(paths()).toEqual(['/new.xml']);
  });

  it('keeps the configured address behind a temporary redirect', async () => {
    for (let i = 0; i < 4; i++) await pollSource(ctx, source('temporary'));
    expect((await ctx.store.sources.get('temporary'))!.movedUrl).toBeNull();
    expect(paths().filter((p) => p === '/elsewhere.xml')).toHaveLength(4);
  });

  it('follows at most five redirects', async () => {
    const result = await pollSource(ctx, source('hops'));
    expect(result.error).toMatchObject({ kind: 'redirect', message: `more than 5 redirects (last to ${server.url}/hop/6)` });
  });

  it('schedules the next poll of a failing source after its Retry-After date, not before', async () => {
    const scheduler = new Scheduler({
      sources: () => [source('busy')],
      poll: (s, signal, lease) => pollSource(ctx, s, signal, lease),
      store: ctx.store,
      autoBounds: () => ({ minMs: 60_000, maxMs: 3_600_000 }),
      leaseMs: () => ctx.config.fetch.lease,
      maxPolls: () => 64,
      owner: ctx.owner,
      log: ctx.log,
    });
    await scheduler.tick();
    await scheduler.stop(5_000);
    const state = (await ctx.store.sources.get('busy'))!;
    expect(state).toMatchObject({ errorKind: 'http', errorCount: 1 });
    expect(state.errorMessage).toMatch(/^HTTP 503 Service Unavailable from .*: service unavailable, retrying after/);
    expect(state.nextPollAt).toBeGreaterThan(Date.now() + 3_600_000);
  });
});

describe('credentials and redirects', () => {
  it('sends a source\'s credentials to its own origin only, never to where it redirects', async () => {
    const home = await startFixtureServer();
    const elsewhere = await startFixtureServer();
    try {
      home.set('/feed.xml', { status: 302, headers: { location: `${elsewhere.url}/feed.xml` } });
      elsewhere.set('/feed.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
      const setup = testConfig(`sources:
  - id: private
    url: "${home.url}/feed.xml"
    auth: { username: reader, password: secret }
    headers: { Cookie: "session=1", X-Client: newsloom }
`);
      const ctx = await openPipeline(setup.config, createLogger('silent'));
      try {
        expect(await pollSource(ctx, setup.config.sources[0]!)).toMatchObject({ status: 'ok', new: 10 });
        expect(home.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('reader:secret').toString('base64')}`);
        const moved = elsewhere.requests[0]!.headers;
        expect(moved.authorization).toBeUndefined();
        expect(moved.cookie).toBeUndefined();
        expect(moved['x-client']).toBe('newsloom');
      } finally {
        await ctx.store.close();
        setup.cleanup();
      }
    } finally {
      await home.close();
      await elsewhere.close();
    }
  });
});
