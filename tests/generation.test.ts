// The feeds' generation is the render cache's key: it must move when a feed could show something new, and only then.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext } from '../src/pipeline/ingest.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

describe("the feeds' generation", () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;
  const feed = readFileSync(new URL('fixtures/tass-en.xml', import.meta.url), 'utf8');

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: feed });
    setup = testConfig(`sources:\n  - { id: tass-en, url: "${server.url}/tass-en.xml" }\n`);
    ctx = await openPipeline(setup.config, silentLogger);
    await pollSource(ctx, ctx.config.sources[0]!);
  });

  afterEach(async () => {
    await ctx.store.close();
    await server.close();
    setup.cleanup();
  });

  it('stays put when a poll finds the same items, title and site, and moves when the feed is renamed', async () => {
    const first = await ctx.store.generation();
    // The same feed with other bytes (its validators change), so that the poll is a full one and not a 304.
    server.set('/tass-en.xml', { body: `${feed}\n<!-- polled again -->\n` });
    const again = await pollSource(ctx, ctx.config.sources[0]!);
    expect(again.status).toBe('ok');
    expect(again.new).toBe(0);
    const second = await ctx.store.generation();
    expect(second.feeds, 'nothing a feed shows changed').toBe(first.feeds);
    expect(second.health, 'the source health shows the new poll').toBeGreaterThan(first.health);

    const renamed = feed.replace(/<title>[^<]*<\/title>/, '<title>TASS, renamed</title>');
    expect(renamed).not.toBe(feed);
    server.set('/tass-en.xml', { body: renamed });
    await pollSource(ctx, ctx.config.sources[0]!);
    expect((await ctx.store.generation()).feeds, 'atom:source shows the new title').toBeGreaterThan(second.feeds);
  });
});
