import { readFileSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { closePipeline, openPipeline, startDaemon, type Daemon } from '../src/daemon.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { startHousekeeping } from '../src/scheduler/housekeeping.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

describe('the daily housekeeping', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon | undefined;

  afterEach(async () => {
    await daemon?.stop(1_000);
    daemon = undefined;
    await server.close();
    setup.cleanup();
  });

  it('runs on retention.schedule in the daemon: prunes old items and checkpoints the WAL', async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    // Every second, so the test sees it run. The fixture's items (December 2021) arrive while they are recent and
    // are past retention once the clock has moved on.
    setup = testConfig(`
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }
retention: { items: 90d, schedule: "* * * * * *" }
`);
    let clock = Date.parse('2021-12-25T00:00:00Z');
    const lines: { msg: string; items?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    daemon = await startDaemon(setup.config, log, { now: () => clock });
    while (!lines.some((l) => l.msg.startsWith('tass-en: 10 new'))) await new Promise((resolve) => setTimeout(resolve, 50));
    // The WAL as the pruning run leaves it just before its checkpoint (a run in the first seconds may already have
    // checkpointed the ingest's pages, so a size read here would race with it).
    const { store } = daemon.context;
    const optimize = store.optimize.bind(store);
    let walBefore: number | undefined;
    store.optimize = () => {
      if (clock > Date.parse('2022-01-01T00:00:00Z')) walBefore ??= statSync(`${setup.config.storage.path}-wal`).size;
      return optimize();
    };
    clock = Date.parse('2026-01-01T00:00:00Z');
    const pruned = () => lines.find((l) => l.msg.startsWith('housekeeping:') && (l.items ?? 0) > 0);
    while (!pruned()) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(pruned()!.msg).toBe('housekeeping: pruned 10 items and 10 stories, forgot 0 fingerprints');
    expect(await daemon.context.store.items.count()).toBe(0);
    // The checkpoint truncated the WAL, which held the prune's pages; the daemon may have written a few pages since (the
    // next second's housekeeping, the search index's bookkeeping), so it is compared with what it was, not with zero.
    const walAfter = statSync(`${setup.config.storage.path}-wal`).size;
    // Without the checkpoint it would only have grown.
    expect(walBefore).toBeGreaterThan(0);
    expect(walAfter).toBeLessThan(walBefore!);
  });

  it('runs once in the cluster: not while another poller holds the housekeeping task, and then by whoever asks', async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    setup = testConfig(`
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }
retention: { items: 90d, schedule: "* * * * * *" }
`);
    let clock = Date.parse('2021-12-25T00:00:00Z');
    const lines: { msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const ctx = await openPipeline(setup.config, log, () => clock);
    const task = startHousekeeping(ctx, 3_600_000);
    try {
      await pollSource(ctx, setup.config.sources[0]!);
      clock = Date.parse('2026-01-01T00:00:00Z');
      await ctx.store.cluster.holdTask('another-poller', 'housekeeping', clock, 3_600_000);
      const until = (msg: string) => new Promise<void>((resolve) => {
        const look = () => (lines.some((l) => l.msg.startsWith(msg)) ? resolve() : setTimeout(look, 50));
        look();
      });
      await until('housekeeping: another poller of this database is doing it');
      expect(await ctx.store.items.count()).toBe(10);
      // The other poller's lease ends without its renewing it (it died): this one takes the task.
      clock += 3_600_000;
      await until('housekeeping: pruned 10 items');
      expect(await ctx.store.items.count()).toBe(0);
    } finally {
      await task.destroy();
      await closePipeline(ctx);
    }
  });
});
