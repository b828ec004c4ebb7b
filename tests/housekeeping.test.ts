import { readFileSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

describe('the daily housekeeping', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  afterEach(async () => {
    await daemon.stop(1_000);
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
    const walBefore = statSync(`${setup.config.storage.path}-wal`).size;
    clock = Date.parse('2026-01-01T00:00:00Z');
    const pruned = () => lines.find((l) => l.msg.startsWith('housekeeping:') && (l.items ?? 0) > 0);
    while (!pruned()) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(pruned()!.msg).toBe('housekeeping: pruned 10 items and 10 stories, forgot 0 fingerprints');
    expect(await daemon.context.store.items.count()).toBe(0);
    // The checkpoint truncated the WAL, which held the whole ingest; the daemon may have written a few pages since (the
    // next second's housekeeping, the search index's bookkeeping), so it is compared with what it was, not with zero.
    const walAfter = statSync(`${setup.config.storage.path}-wal`).size;
    // Without the checkpoint it would only have grown (the prune's own pages come after the ingest's).
    expect(walBefore).toBeGreaterThan(0);
    expect(walAfter).toBeLessThan(walBefore);
  });
});
