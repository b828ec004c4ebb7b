import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { checkAtom } from './helpers/rfc4287.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { CHILD_ENV, CLI, fetchInProcess, freePort, newsloom as run } from './helpers/process.ts';

// At info whatever the environment running the tests sets: what the commands print depends on it.
const newsloom = (args: string[], env: NodeJS.ProcessEnv = {}) => run(args, { NEWSLOOM_LOG_LEVEL: 'info', ...env });

describe('the newsloom command', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let configFile: string;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    server.set('/broken.xml', { body: 'this is not xml' });
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${await freePort()} }
storage: { path: ${JSON.stringify(path.join(setup.dir, 'db', 'newsloom.db'))} }
# The fixture's items are from December 2021: kept for a century, rather than dropped as too old when they arrive.
retention: { items: 36500d }
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }
  - { id: broken, url: "${server.url}/broken.xml", every: 1h }
topics:
  - { id: kazakhstan, any: [Kazakhstan] }
outputs:
  - { id: kz, title: KZ, topics: [kazakhstan] }
`,
    );
  });

  afterEach(async () => {
    await server.close();
    setup.cleanup();
  });

  it('check says ok for a valid config', async () => {
    const run = await newsloom(['check', '--config', configFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok: .*newsloom.yaml — 2 sources \(2 enabled\), 1 topics, 1 outputs/);
  });

  it('check names the file, line and field of a mistake and exits non-zero', async () => {
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('every: 1h }', 'every: soon }'));
    const run = await newsloom(['check'], { NEWSLOOM_CONFIG: configFile });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${configFile}:6:`);
    expect(run.stderr).toContain('sources[0].every: "soon" is neither an interval');
  });

  it('run refuses to start on an invalid config', async () => {
    writeFileSync(configFile, 'sources: 3\n');
    const run = await newsloom(['run', '--config', configFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/newsloom.yaml:1:10: sources: /);
  });

  it('fetch polls every source once and prints a summary per source', async () => {
    const run = await newsloom(['fetch', '--config', configFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^tass-en\s+ok\s+10\s+0\s+0\s/m);
    expect(run.stdout).toMatch(/^broken\s+error\s+0\s+0\s+0\s+\d+ ms\s+not-a-feed: the answer from 127\.0\.0\.1:\d+ is not XML .*"this is not xml"$/m);
    const again = await newsloom(['fetch', '--config', configFile, '--source', 'tass-en']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^tass-en\s+not-modified\s+0\s+0\s+0\s/m);
  });

  it('sources prints each source\'s health after a poll', async () => {
    const before = await newsloom(['sources', '--config', configFile]);
    expect(before.stdout).toMatch(/^tass-en\s+not polled yet\s+—\s+—\s+0\s+0\s*$/m);
    await fetchInProcess(configFile);
    const run = await newsloom(['sources', '--config', configFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^source\s+state\s+last success\s+next poll\s+errors\s+items\s+last error$/m);
    expect(run.stdout).toMatch(/^tass-en\s+ok\s+\d+m?s ago\s+—\s+0\s+10\s*$/m);
    expect(run.stdout).toMatch(/^broken\s+error\s+—\s+—\s+1 since \d+m?s ago\s+0\s+not-a-feed: the answer from .* is not XML/m);
  });

  it('prune deletes items past retention, keeping their fingerprints, and says how many', async () => {
    await fetchInProcess(configFile);
    // Then the retention is shortened to 90 days, far less than the age of the fixture's items.
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('items: 36500d', 'items: 90d'));
    const run = await newsloom(['prune', '--config', configFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('pruned 10 items and 10 stories, forgot 0 fingerprints; 0 items remain\n');
    server.set('/tass-en.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url), 'utf8').replace('<channel>', '<channel><ttl>60</ttl>') });
    const again = await newsloom(['fetch', '--config', configFile, '--source', 'tass-en']);
    expect(again.stdout).toMatch(/^tass-en\s+ok\s+0\s+0\s+10\s/m);
  });

  it('run serves feeds, polls on schedule, and exits 0 on SIGTERM', async () => {
    const port = /port: (\d+)/.exec(readFileSync(configFile, 'utf8'))![1];
    const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { env: { ...process.env, ...CHILD_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"source":"tass-en"')) resolve();
      }),
    );
    const feed = await (await fetch(`http://127.0.0.1:${port}/feeds/kz.atom`)).text();
    expect(feed).toContain('Tokayev calls unrest in Kazakhstan a coup attempt');
    expect((await newsloom(['healthcheck', '--config', configFile])).code).toBe(0);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(stdout).toContain('newsloom stopped');
    expect((await newsloom(['healthcheck', '--config', configFile])).code).toBe(1);
  });

  it('export writes every feed in every format, the index page and OPML, as a static site', async () => {
    const dir = path.join(setup.dir, 'site');
    expect((await newsloom(['export', dir, '--config', configFile])).stderr).toContain('set server.base_url or pass --base-url');
    await fetchInProcess(configFile);
    const run = await newsloom(['export', dir, '--config', configFile, '--base-url', 'https://news.example/loom/']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const file of ['index.html', 'feeds.opml', 'feed.xsl', 'feeds/kz.atom', 'feeds/kz.rss', 'feeds/kz.json', 'topics/kazakhstan.atom', 'sources/tass-en.json', 'sources/broken.rss']) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
    const atom = readFileSync(path.join(dir, 'feeds/kz.atom'), 'utf8');
    expect(checkAtom(atom)).toEqual([]);
    expect(atom).toContain('<link rel="self" type="application/atom+xml" href="https://news.example/loom/feeds/kz.atom"/>');
    expect(atom).toContain('<?xml-stylesheet type="text/xsl" href="/loom/feed.xsl"?>');
    expect(atom).toContain('Tokayev calls unrest in Kazakhstan a coup attempt');
    expect(readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('href="https://news.example/loom/feeds/kz.rss"');
    expect(readFileSync(path.join(dir, 'feeds.opml'), 'utf8')).toContain('xmlUrl="https://news.example/loom/feeds/kz.atom"');
  });
});
