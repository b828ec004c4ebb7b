import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext } from '../src/pipeline/ingest.ts';
import { backupDatabase } from '../src/store/sqlite/backup.ts';
import { openStore } from '../src/store/store.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';

describe('backup', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    setup = testConfig(`sources:\n  - { id: tass-en, url: "${server.url}/tass-en.xml" }\ntopics:\n  - { id: kazakhstan, any: [Kazakhstan] }\n`);
    ctx = await openPipeline(setup.config, silentLogger);
    await pollSource(ctx, ctx.config.sources[0]!);
  });

  afterEach(async () => {
    await ctx.store.close();
    await server.close();
    setup.cleanup();
  });

  it('copies the live database while its connection stays open and writing, and the copy restores', async () => {
    const target = path.join(setup.dir, 'backup.db');
    // The daemon's connection is in the middle of a write: the copy holds the last committed state.
    connectionOf(ctx.store).exec('BEGIN IMMEDIATE');
    connectionOf(ctx.store).prepare("UPDATE items SET title = 'uncommitted'").run();
    const result = await backupDatabase(setup.config.storage.path, target);
    connectionOf(ctx.store).exec('ROLLBACK');
    expect(result).toMatchObject({ file: target, integrity: 'ok' });
    expect(result.pages).toBeGreaterThan(1);
    expect(existsSync(`${target}.partial`)).toBe(false);

    const restored = await openStore({ path: target });
    try {
      expect(await restored.items.count()).toBe(10);
      expect((await restored.items.list({ limit: 50 })).filter((i) => i.title === 'uncommitted')).toEqual([]);
      expect((await restored.items.list({ topics: ['kazakhstan'], limit: 50 })).map((i) => i.title)).toEqual(
        (await ctx.store.items.list({ topics: ['kazakhstan'], limit: 50 })).map((i) => i.title),
      );
      expect((await restored.sources.get('tass-en'))?.etag).toBe((await ctx.store.sources.get('tass-en'))?.etag);
    } finally {
      await restored.close();
    }
  });

  it('says why it failed and leaves no half file when the target folder does not exist', async () => {
    const target = path.join(setup.dir, 'missing', 'backup.db');
    await expect(backupDatabase(setup.config.storage.path, target)).rejects.toThrow(/directory does not exist/);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses to invent an empty database when the source file is missing', async () => {
    await expect(backupDatabase(path.join(setup.dir, 'nope.db'), path.join(setup.dir, 'b.db'))).rejects.toThrow();
    expect(existsSync(path.join(setup.dir, 'nope.db'))).toBe(false);
  });
});
