// `newsloom run --role`: a web replica serves every feed and page from the database without writing it (on SQLite,
// beside the daemon that polls it), a poller serves only the operators' endpoints, and an unknown role is a mistake
// of the command line.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { freePort, newsloom, runDaemon, type DaemonProcess } from './helpers/process.ts';

const listening = (l: { msg: string }) => l.msg.startsWith('newsloom listening');

describe('roles', () => {
  let feeds: FixtureServer;
  let setup: TestConfig;
  let configFile: string;
  let database: string;
  const running: DaemonProcess[] = [];

  beforeEach(async () => {
    feeds = await startFixtureServer();
    feeds.set('/tass.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    database = path.join(setup.dir, 'newsloom.db');
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${await freePort()}, base_url: "http://news.test/" }
storage: { path: ${JSON.stringify(database)} }
fetch: { host_gap: 0s }
# The fixture's items are from December 2021: not too old to keep.
retention: { items: 36500d }
sources:
  - { id: tass, url: "${feeds.url}/tass.xml", every: 1h }
outputs:
  - { id: all, title: Everything }
`,
    );
  });

  afterEach(async () => {
    for (const daemon of running.splice(0)) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await feeds.close();
    setup.cleanup();
  });

  const start = async (role: string, env: NodeJS.ProcessEnv = {}) => {
    const daemon = runDaemon(configFile, env, ['--role', role]);
    running.push(daemon);
    await daemon.waitFor(listening, `the ${role} process serving`, 90_000);
    return { daemon, url: String(daemon.lines.find(listening)!.url) };
  };
  const get = async (url: string) => {
    const response = await fetch(url);
    return { status: response.status, body: await response.text() };
  };
  /** What the database files hold (the -shm file is shared memory that readers mark too, so it is left out). */
  const fingerprint = () =>
    [database, `${database}-wal`, path.join(setup.dir, 'newsloom.search.db'), path.join(setup.dir, 'newsloom.search.db-wal')]
      .filter((file) => existsSync(file))
      .map((file) => `${path.basename(file)} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`);

  it('serves the same feeds as the daemon beside it, from a SQLite database it never writes', async () => {
    const all = await start('all');
    await all.daemon.waitFor((l) => l.source === 'tass' && l.status === 'ok', 'the first poll');
    const web = await start('web', { NEWSLOOM_PORT: String(await freePort()) });
    expect(web.daemon.lines.find(listening)!.msg).toMatch(/serving from the database, read-only \(--role web\)$/);

    const fromDaemon = await get(`${all.url}/feeds/all.atom`);
    const fromWeb = await get(`${web.url}/feeds/all.atom`);
    expect(fromWeb.status).toBe(200);
    expect(fromWeb.body).toBe(fromDaemon.body);
    expect(fromWeb.body.match(/<entry[\s>]/g)).toHaveLength(10);
    expect(await get(`${web.url}/readyz`)).toEqual({ status: 200, body: `${JSON.stringify({ status: 'ready', database: true, migrations: true })}\n` });

    // With the daemon gone, everything the web replica serves leaves the database's files as they were.
    all.daemon.child.kill('SIGTERM');
    await all.daemon.exited;
    const before = fingerprint();
    for (const page of ['/feeds/all.atom', '/feeds/all.html', '/sources/tass.rss', '/search.atom?q=kazakhstan', '/search.html?q=russia', '/', '/status', '/metrics']) {
      expect((await get(`${web.url}${page}`)).status, page).toBe(200);
    }
    expect(fingerprint()).toEqual(before);
    expect(web.daemon.lines.filter((l) => l.source !== undefined)).toEqual([]);
    expect(feeds.requests).toHaveLength(1);
  });

  it('has a poller serve the operators their endpoints and nothing else', async () => {
    const poller = await start('poller');
    await poller.daemon.waitFor((l) => l.source === 'tass' && l.status === 'ok', 'the first poll');
    for (const ops of ['/healthz', '/readyz', '/metrics', '/status']) expect((await get(`${poller.url}${ops}`)).status, ops).toBe(200);
    for (const page of ['/', '/feeds/all.atom', '/feeds.opml', '/search.html?q=russia']) {
      const answer = await get(`${poller.url}${page}`);
      expect(answer.status, page).toBe(404);
      expect(answer.body).toMatch(/this newsloom is a poller \(--role poller\)/);
    }
  });

  it('refuses a web replica on a database that does not exist yet, saying why', async () => {
    const web = runDaemon(configFile, {}, ['--role', 'web']);
    running.push(web);
    expect(await web.exited).toBe(3);
    expect(web.stderr()).toMatch(/does not exist yet \(the web role only reads; start a poller, or run --role all, first\)/);
  });

  it('rejects an unknown role as a mistake of the command line', async () => {
    const run = await newsloom(['run', '--role', 'boss', '--config', configFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^newsloom: unknown role "boss" for --role \(one of all, poller, web\)/);
  });
});
