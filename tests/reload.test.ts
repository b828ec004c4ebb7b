import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { diffSources, restartRequired } from '../src/config/reload.ts';
import { startDaemon, type ConfigChangeListener, type Daemon } from '../src/daemon.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

interface Captured {
  level: number;
  msg: string;
}

describe('reloading the config of a running daemon', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;
  let configFile: string;
  let logs: Captured[];

  const configText = (sources: string, topics = '  - { id: kazakhstan, any: [Kazakhstan] }') => `server: { host: 127.0.0.1, port: 0 }
storage: { path: ${JSON.stringify(path.join(setup.dir, 'newsloom.db'))} }
# The fixtures' items are from December 2021: not too old to keep.
retention: { items: 36500d }
sources:
${sources}
topics:
${topics}
`;
  const waitFor = async (what: string, check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const titles = async (feed: string) => (await fetchAtom(`${daemon.url}${feed}`)).entries.map((e) => e.title);

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    server.set('/blog.atom', { body: fixture('blog.atom'), headers: { 'content-type': 'application/atom+xml' } });
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    writeFileSync(configFile, configText(`  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }`));
    logs = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Captured) });
    daemon = await startDaemon(loadConfig(configFile, {}), log, { configFile, env: {}, watchDebounceMs: 50 });
    await waitFor('the first poll', async () => server.requests.length > 0 && await daemon.context.store.items.count() > 0);
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('picks up an added source when the file changes, without a restart', async () => {
    writeFileSync(
      configFile,
      configText(`  - { id: tass-en, url: "${server.url}/tass-en.xml", every: 1h }\n  - { id: notes, url: "${server.url}/blog.atom", every: 1h }`),
    );
    await waitFor('the new source to be polled', () => server.requests.some((r) => r.path === '/blog.atom'));
    await waitFor('its items to be published', async () => (await fetch(`${daemon.url}/sources/notes.atom`)).status === 200 && (await titles('/sources/notes.atom')).length === 3);
    expect(logs.map((l) => l.msg)).toContain('config reloaded: 1 sources added, 0 removed, 0 changed');
  });

  it('rejects an invalid file with a clear log line and keeps running on the old config', async () => {
    writeFileSync(configFile, configText(`  - { id: tass-en, url: "${server.url}/tass-en.xml", every: soon }`));
    await waitFor('the rejection', () => logs.some((l) => l.msg.startsWith('config reload rejected')));
    const rejection = logs.find((l) => l.msg.startsWith('config reload rejected'))!;
    expect(rejection.level).toBe(50);
    expect(rejection.msg).toContain(`keeping the running config: ${configFile}:6:`);
    expect(rejection.msg).toContain('sources[0].every: "soon" is neither an interval');
    expect(daemon.context.config.sources[0]!.every).toEqual({ kind: 'interval', ms: 3_600_000 });
    expect(await titles('/sources/tass-en.atom')).toHaveLength(10);
  });

  it('stops polling a removed source and polls a changed one again at once, on SIGHUP-style reload()', async () => {
    const polls = () => server.requests.filter((r) => r.path === '/tass-en.xml').length;
    const before = polls();
    // Only the URL's query changes: the source must be fetched anew at the next heartbeat, not in an hour.
    writeFileSync(configFile, configText(`  - { id: tass-en, url: "${server.url}/tass-en.xml?v=2", every: 1h }`));
    server.set('/tass-en.xml?v=2', { body: fixture('tass-en.xml') });
    expect(await daemon.reload()).toBe(true);
    await waitFor('the changed source to be polled', () => server.requests.some((r) => r.path === '/tass-en.xml?v=2'));
    expect(polls()).toBe(before);

    writeFileSync(configFile, configText(`  - { id: notes, url: "${server.url}/blog.atom", every: 1h }`));
    expect(await daemon.reload()).toBe(true);
    expect(daemon.context.config.sources.map((s) => s.id)).toEqual(['notes']);
    await waitFor('the added source to be polled', () => server.requests.some((r) => r.path === '/blog.atom'));
    // Its row stays in the database and is due now; a scheduler still offered it would fetch it.
    await daemon.context.store.sources.scheduleNext('tass-en', 0);
    await daemon.scheduler.tick();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests.filter((r) => r.path.startsWith('/tass-en.xml')).length).toBe(before + 1);
    expect((await fetch(`${daemon.url}/sources/tass-en.atom`)).status).toBe(404);
  });

  it('tags new items with the new topics and tells the onConfigChange listeners', async () => {
    const changes: Parameters<ConfigChangeListener>[0][] = [];
    daemon.onConfigChange.push((change) => {
      changes.push(change);
    });
    writeFileSync(configFile, configText(`  - { id: notes, url: "${server.url}/blog.atom", every: 1h }`, '  - { id: bazaar, any: [bazaar] }'));
    expect(await daemon.reload()).toBe(true);
    await waitFor('the listener', () => changes.length === 1);
    expect(changes[0]!.previous.topics.map((t) => t.id)).toEqual(['kazakhstan']);
    expect(changes[0]!.next.topics.map((t) => t.id)).toEqual(['bazaar']);
    await waitFor('the new source to be stored', async () => (await fetch(`${daemon.url}/topics/bazaar.atom`)).status === 200 && (await titles('/topics/bazaar.atom')).length > 0);
    expect(await titles('/topics/bazaar.atom')).toEqual(['Recipes from the bazaar']);
  });
});

describe('what a reload changes', () => {
  const parse = (yaml: string) => testConfig(yaml);

  it('tells added, removed and changed sources apart', () => {
    const a = parse('sources:\n  - { id: a, url: "https://a.example/" }\n  - { id: b, url: "https://b.example/" }\n');
    const b = parse('sources:\n  - { id: b, url: "https://b.example/", every: 5m }\n  - { id: c, url: "https://c.example/" }\n');
    expect(diffSources(a.config.sources, b.config.sources)).toEqual({ added: ['c'], removed: ['a'], changed: ['b'] });
    expect(diffSources(a.config.sources, a.config.sources)).toEqual({ added: [], removed: [], changed: [] });
    a.cleanup();
    b.cleanup();
  });

  it('names the settings that only a restart applies', () => {
    const a = parse('server: { base_url: "https://a.example/" }\n');
    const b = parse('server: { base_url: "https://b.example/" }\n');
    expect(restartRequired(a.config, b.config)).toEqual(['storage.path']);
    b.config.storage.path = a.config.storage.path;
    b.config.server.port = 9999;
    expect(restartRequired(a.config, b.config)).toEqual(['server.port']);
    a.cleanup();
    b.cleanup();
  });
});
