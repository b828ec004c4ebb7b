import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';

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
    const jumped = lines.length;
    clock = Date.parse('2026-01-01T00:00:00Z');
    const pruned = () => lines.find((l) => l.msg.startsWith('housekeeping:') && (l.items ?? 0) > 0);
    // The source is due again after the jump, and its poll writes (its fetch state, then its next poll): the checkpoint
    // looked at is the second run after that poll's log line (a second apart), so that nothing is written after it.
    const polled = () => lines.findIndex((l, i) => i >= jumped && l.msg.startsWith('tass-en: '));
    const after = () => polled() >= 0 && lines.filter((l, i) => i > polled() && l.msg.startsWith('housekeeping:')).length >= 2;
    while (!pruned() || !after()) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(pruned()!.msg).toBe('housekeeping: pruned 10 items and 10 stories, forgot 0 fingerprints');
    expect(await daemon.context.store.items.count()).toBe(0);
    const wal = connectionOf(daemon.context.store).pragma('wal_checkpoint(PASSIVE)', { simple: false }) as { log: number }[];
    expect(wal[0]!.log).toBe(0);
  });
});
