import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';

describe('when the database cannot be written', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    setup = testConfig(`sources:\n  - { id: tass-en, url: "${server.url}/tass-en.xml" }\n`);
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('reports a full disk as a storage error, keeps serving, and stores everything once there is room', async () => {
    const db = connectionOf(daemon.context.store);
    // No free pages left for the poll to fill (a fresh database has a few, from tables its migrations dropped).
    db.exec('VACUUM');
    const pages = db.pragma('page_count', { simple: true }) as number;
    // SQLite's own cap on the file's size stands in for a full disk: writes fail with SQLITE_FULL.
    db.pragma(`max_page_count = ${pages}`);
    const full = await pollSource(daemon.context, daemon.context.config.sources[0]!);
    expect(full.status).toBe('error');
    expect(full.error).toMatchObject({ kind: 'storage', message: 'nothing stored: the disk holding the database is full (SQLITE_FULL)' });
    expect(await daemon.context.store.items.count()).toBe(0);
    expect((await fetch(`${daemon.url}/sources/tass-en.atom`)).status).toBe(200);

    db.pragma('max_page_count = 1073741823');
    const recovered = await pollSource(daemon.context, daemon.context.config.sources[0]!);
    expect(recovered).toMatchObject({ status: 'ok', new: 10 });
  });

  it('keeps the next poll time in memory while the database cannot take it', async () => {
    // query_only makes every write fail with SQLITE_READONLY, as a volume gone read-only would.
    connectionOf(daemon.context.store).pragma('query_only = ON');
    daemon.scheduler.start();
    // The failed poll is scheduled for later (backoff) although the database refused the time: no hammering.
    for (let i = 0; i < 100 && server.requests.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(server.requests.filter((r) => r.path === '/tass-en.xml')).toHaveLength(1);
    connectionOf(daemon.context.store).pragma('query_only = OFF');
  });
});
