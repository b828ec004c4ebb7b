// The operators' commands: check with the environment, SIGHUP, backup of a running daemon, OPML in and out.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { freePort, newsloom, runDaemon, type DaemonProcess } from './helpers/process.ts';

const FEED = '<rss version="2.0"><channel><title>Members</title><item><title>For members only</title><guid>m-1</guid></item></channel></rss>';

describe('operating newsloom from the command line', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let configFile: string;
  let secretFile: string;
  let running: DaemonProcess | undefined;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/private.xml', {
      handler: (req, res) => {
        const ok = req.headers.authorization === `Basic ${Buffer.from('reader:right').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/rss+xml' }).end(ok ? FEED : '');
      },
    });
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    secretFile = path.join(setup.dir, 'password');
    writeFileSync(secretFile, 'wrong\n');
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${await freePort()} }
storage: { path: ${JSON.stringify(path.join(setup.dir, 'newsloom.db'))} }
sources:
  - id: members-only
    title: Members only
    url: "${server.url}/private.xml"
    every: 1h
    auth: { username: reader }
`,
    );
  });

  afterEach(async () => {
    running?.child.kill('SIGKILL');
    await running?.exited;
    running = undefined;
    await server.close();
    setup.cleanup();
  });

  it('check validates the environment with the config and shows what it sets', async () => {
    const env = { NEWSLOOM_SOURCE_MEMBERS_ONLY_PASSWORD_FILE: secretFile, NEWSLOOM_LOG_LEVEL: 'warn' };
    const ok = await newsloom(['check', '--config', configFile], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/1 sources \(1 enabled\), 0 topics, 0 outputs; from the environment: NEWSLOOM_LOG_LEVEL, NEWSLOOM_SOURCE_MEMBERS_ONLY_PASSWORD_FILE\n$/);

    const typo = await newsloom(['check', '--config', configFile], { ...env, NEWSLOOM_SOURCE_MEMBERS_PASSWORD: 'x', NEWSLOOM_LOGLEVEL: 'debug' });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('environment NEWSLOOM_LOGLEVEL: newsloom does not read this variable');
    expect(typo.stderr).toContain('environment NEWSLOOM_SOURCE_MEMBERS_PASSWORD: newsloom does not read this variable');
  });

  it('reloads on SIGHUP, reading rotated secrets again, and backs up the database while running', async () => {
    const env = { NEWSLOOM_SOURCE_MEMBERS_ONLY_PASSWORD_FILE: secretFile };
    running = runDaemon(configFile, env);
    await running.waitFor((l) => l.source === 'members-only' && l.status === 'error', 'the poll with the wrong password');

    // The config file itself does not change, so its watch does nothing: SIGHUP reads the secret again.
    writeFileSync(secretFile, 'right\n');
    running.child.kill('SIGHUP');
    await running.waitFor((l) => l.msg === 'config reloaded: 0 sources added, 0 removed, 1 changed', 'the reload');
    await running.waitFor((l) => l.source === 'members-only' && l.status === 'ok', 'a poll with the new password');

    const target = path.join(setup.dir, 'copy.db');
    const backup = await newsloom(['backup', target, '--config', configFile], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^backed up .*newsloom.db to .*copy.db: \d+ pages, \d+ bytes, integrity ok\n$/);
    const copy = new Database(target, { readonly: true });
    expect(copy.prepare('SELECT title FROM items').pluck().all()).toEqual(['For members only']);
    copy.close();

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;
  });

  it('import-opml adds the feeds to the config file and export-opml prints them back', async () => {
    const env = { NEWSLOOM_SOURCE_MEMBERS_ONLY_PASSWORD: 'x' };
    const opml = path.join(import.meta.dirname, 'fixtures/subscriptions.opml');
    const before = readFileSync(configFile, 'utf8');
    const imported = await newsloom(['import-opml', opml, '--config', configFile], env);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('added kazinform-2: Kazinform <https://www.inform.kz/rss/rus.xml>\n');
    expect(imported.stdout).toMatch(/6 sources added to .*newsloom.yaml, 1 skipped\n$/);
    expect(readFileSync(configFile, 'utf8').startsWith(before)).toBe(true);

    const exported = await newsloom(['export-opml', '--config', configFile], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`<outline type="rss" text="Members only" title="Members only" xmlUrl="${server.url}/private.xml"/>`);
    expect(exported.stdout.match(/<outline /g)).toHaveLength(7);
  });
});
