import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { retagAll, TOPICS_HASH_KEY } from '../src/pipeline/retag.ts';
import { compileTopics } from '../src/pipeline/tagger.ts';
import { openStore } from '../src/store/store.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { fetchInProcess, newsloom } from './helpers/process.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

/** How many stored items carry a topic. */
const tagged = async (daemon: Daemon, topic: string) => (await daemon.context.store.tagsByTopic()).find((t) => t.topic === topic)?.count ?? 0;

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) };
}

describe.each(ENGINES)('re-applying topic rules to stored items (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon | undefined;

  const yaml = (kazakhstanTerms: string, extraTopics = '') => `
sources:
  - { id: tass-en, url: "${server.url}/tass-en.xml", language: en }
  - { id: tass-ru, url: "${server.url}/tass-ru.xml", language: ru }
topics:
  - { id: kazakhstan, any: [${kazakhstanTerms}] }
  - { id: csto, any: [CSTO, ОДКБ, Collective Security Treaty, Договор о коллективной безопасности] }
${extraTopics}
outputs:
  - { id: kz, title: KZ, topics: [kazakhstan] }
  - { id: kz-and-csto, title: KZ and CSTO, topics: { all: [kazakhstan, csto] } }
  - { id: kz-not-csto, title: KZ without CSTO, topics: { any: [kazakhstan], not: [csto] } }
`;
  /** The same database, another config: what a maintainer's edit and a restart amount to. */
  const withTopics = (kazakhstanTerms: string, extraTopics = ''): Config => {
    const config = parseConfig(yaml(kazakhstanTerms, extraTopics), 'test.yaml', {});
    config.storage = setup.config.storage;
    config.server = setup.config.server;
    config.retention = setup.config.retention;
    return config;
  };
  const titles = async (output: string) => (await fetchAtom(`${daemon!.url}/feeds/${output}.atom`)).entries.map((e) => e.title).sort();
  const feedRequests = () => server.requests.filter((r) => r.path.endsWith('.xml')).length;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    server.set('/tass-ru.xml', { body: fixture('tass-ru.xml') });
    setup = testConfig('', use.storage());
  });

  afterEach(async () => {
    await daemon?.stop(1_000);
    daemon = undefined;
    await server.close();
    setup.cleanup();
  });

  it('changes which stored items an output holds when a topic is edited and the daemon restarts, without refetching', async () => {
    daemon = await startDaemon(withTopics('Kazakhstan'), silentLogger, { schedule: false });
    await daemon.retagging;
    for (const source of daemon.context.config.sources) await pollSource(daemon.context, source);
    expect(await titles('kz')).toEqual([
      'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13',
      'Tokayev calls unrest in Kazakhstan a coup attempt',
    ]);
    await daemon.stop(1_000);
    const fetched = feedRequests();

    const { lines, log } = recordingLogger();
    daemon = await startDaemon(withTopics('Kazakhstan, Казахстан, Astana'), log, { schedule: false });
    const report = await daemon.retagging;
    expect(report).toMatchObject({ items: 18, complete: true, topics: { kazakhstan: { gained: 3, lost: 0 } } });
    expect(await titles('kz')).toEqual([
      'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13',
      'Lavrov to visit Astana next week',
      'Tokayev calls unrest in Kazakhstan a coup attempt',
      'Миротворцы ОДКБ завершили миссию в Казахстане',
      'Токаев назвал беспорядки в Казахстане попыткой государственного переворота',
    ]);
    expect(lines.join('')).toContain('retag: topic kazakhstan: 3 items gained it, 0 lost it');
    expect(feedRequests()).toBe(fetched);
    await daemon.stop(1_000);

    // The same rules again: the stored hash says the tags are current, so nothing is re-tagged.
    daemon = await startDaemon(withTopics('Kazakhstan, Казахстан, Astana'), silentLogger, { schedule: false });
    expect(await daemon.retagging).toBeUndefined();
  });

  it('re-applies edited topics on a running daemon, and drops the tags of a removed topic', async () => {
    daemon = await startDaemon(withTopics('Kazakhstan', '  - { id: steppe, any: [Tokayev, Токаев] }'), silentLogger, { schedule: false });
    for (const source of daemon.context.config.sources) await pollSource(daemon.context, source);
    expect(await tagged(daemon, 'steppe')).toBe(2);

    daemon.context.config = withTopics('Astana');
    const report = await daemon.applyTopics();
    expect(report?.topics).toEqual({ kazakhstan: { gained: 1, lost: 2 }, steppe: { gained: 0, lost: 2 } });
    expect(await titles('kz')).toEqual(['Lavrov to visit Astana next week']);
    expect(await tagged(daemon, 'steppe')).toBe(0);
    // New items are tagged with the new rules too.
    expect(daemon.context.tagger.hash).toBe(compileTopics(daemon.context.config.topics).hash);
  });

  it('filters outputs by all and not of topics', async () => {
    daemon = await startDaemon(withTopics('Kazakhstan, Казахстан'), silentLogger, { schedule: false });
    for (const source of daemon.context.config.sources) await pollSource(daemon.context, source);
    expect(await titles('kz-and-csto')).toEqual(['CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13', 'Миротворцы ОДКБ завершили миссию в Казахстане']);
    expect(await titles('kz-not-csto')).toEqual([
      'Tokayev calls unrest in Kazakhstan a coup attempt',
      'Токаев назвал беспорядки в Казахстане попыткой государственного переворота',
    ]);
  });

  it('re-tags in batches that give the event loop a turn, and records the rules only when it finished', async () => {
    daemon = await startDaemon(withTopics('Kazakhstan'), silentLogger, { schedule: false });
    for (const source of daemon.context.config.sources) await pollSource(daemon.context, source);
    await daemon.stop(1_000);
    daemon = undefined;

    const store = await openStore(setup.config.storage);
    try {
      const tagger = compileTopics(withTopics('Astana').topics);
      const stopped = new AbortController();
      stopped.abort();
      expect(await retagAll(store, tagger, silentLogger, { signal: stopped.signal })).toMatchObject({ items: 0, complete: false });
      expect(await store.meta.get(TOPICS_HASH_KEY)).not.toBe(tagger.hash);

      let turns = 0;
      let done = false;
      const running = retagAll(store, tagger, silentLogger, { batchSize: 1 }).then((report) => {
        done = true;
        return report;
      });
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
      expect((await running).items).toBe(18);
      expect(turns).toBeGreaterThanOrEqual(18);
      expect(await store.meta.get(TOPICS_HASH_KEY)).toBe(tagger.hash);
    } finally {
      await store.close();
    }
  });
});

describe('newsloom explain and retag', () => {
  let server: FixtureServer;
  let setup: TestConfig;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-ru.xml', { body: fixture('tass-ru.xml') });
    setup = testConfig('');
  });

  afterEach(async () => {
    await server.close();
    setup.cleanup();
  });

  it('explains an item by URL or number, and re-tags on demand after the config changed', async () => {
    const file = path.join(setup.dir, 'newsloom.yaml');
    const write = (terms: string) =>
      writeFileSync(
        file,
        `storage: { path: ${JSON.stringify(setup.config.storage.path)} }
# The fixture's items are from December 2021: not too old to keep.
retention: { items: 36500d }
sources:
  - { id: tass-ru, url: "${server.url}/tass-ru.xml", language: ru }
topics:
  - { id: kazakhstan, any: [${terms}] }
  - { id: csto, any: [ОДКБ], not: [миссию] }
`,
      );
    write('Казахстан');
    await fetchInProcess(file);

    const explained = await newsloom(['explain', 'https://tass.ru/mezhdunarodnaya-panorama/13304002', '--config', file]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('Миротворцы ОДКБ завершили миссию в Казахстане');
    expect(explained.stdout).toContain('kazakhstan\n  "Казахстан" matched "Казахстане" in the title');
    expect(explained.stdout).toContain('csto: blocked by "миссию" matched "миссию" in the title');

    write('Казахстан, алматинский');
    const [stale, missing] = await Promise.all([
      newsloom(['explain', 'https://tass.ru/mezhdunarodnaya-panorama/13304008', '--config', file]),
      newsloom(['explain', 'https://nowhere.example/', '--config', file]),
    ]);
    const [, number, uid] = /^#(\d+) urn:uuid:(\S+)/.exec(stale.stdout)!;
    // By its entry id too, with or without the urn:uuid: prefix.
    const byUid = await Promise.all([uid!, `urn:uuid:${uid!.toUpperCase()}`].map((ref) => newsloom(['explain', ref, '--config', file])));
    for (const run of byUid) expect(run.stdout).toContain('Алматинские власти отменили режим ЧП');
    expect(stale.stdout).toContain('Алматинские власти отменили режим ЧП');
    expect(stale.stdout).toContain('no topics');
    expect(stale.stdout).toContain('the current rules give: kazakhstan; `newsloom retag`');

    const retag = await newsloom(['retag', '--config', file]);
    expect(retag.code).toBe(0);
    expect(retag.stdout).toMatch(/^kazakhstan\s+\+1\s+-0$/m);
    expect(retag.stdout).toContain('8 items re-tagged, 1 changed');
    expect((await newsloom(['explain', number!, '--config', file])).stdout).toContain('\nkazakhstan\n  "алматинский" matched "Алматинские" in the title\n');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no stored item "https://nowhere.example/"');
  });
});
