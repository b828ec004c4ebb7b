import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PollResult } from '../src/pipeline/ingest.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

const TASS_COUP = 'Tokayev calls unrest in Kazakhstan a coup attempt';
const GSV_COUP = 'Tokayev describes unrest in Kazakhstan as attempted coup';
const TASS_CSTO = 'CSTO peacekeepers to begin withdrawal from Kazakhstan on January 13';
const GSV_CSTO = 'CSTO peacekeeping contingent to leave Kazakhstan within ten days';
const GSV_BUDGET = 'Senate of Kazakhstan approves republican budget for 2022';

describe.each(ENGINES)('one story, one entry (%s)', (engine) => {
  const use = useEngine(engine);
  let server: FixtureServer;
  let setup: TestConfig;
  let daemon: Daemon;

  const poll = async (id: string): Promise<PollResult> => pollSource(daemon.context, daemon.context.config.sources.find((s) => s.id === id)!);
  const feed = (path: string) => fetchAtom(`${daemon.url}${path}`);

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass-en.xml', { body: fixture('tass-en.xml') });
    server.set('/gsv-en.xml', { body: fixture('gsv-en.xml') });
    setup = testConfig(`
sources:
  - { id: tass-en, title: TASS, url: "${server.url}/tass-en.xml" }
  - { id: gsv, title: GSV, url: "${server.url}/gsv-en.xml" }
topics:
  - { id: kazakhstan, any: [Kazakhstan, Kazakh, Tokayev] }
outputs:
  - { id: kazakhstan, title: Kazakhstan, topics: [kazakhstan] }
  - { id: kazakhstan-all, title: Kazakhstan (every report), topics: [kazakhstan], every_item: true }
`, use.storage());
    daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  });

  afterEach(async () => {
    await daemon.stop(1_000);
    await server.close();
    setup.cleanup();
  });

  it('shows a story reported by TASS and a site that reposts it once, linking the other report', async () => {
    expect(await poll('tass-en')).toMatchObject({ status: 'ok', new: 10, merged: 0 });
    expect(await poll('gsv')).toMatchObject({ status: 'ok', new: 4, merged: 2 });

    const kz = await feed('/feeds/kazakhstan.atom');
    const titles = kz.entries.map((e) => e.title);
    expect(titles).toContain(TASS_COUP);
    expect(titles).toContain(TASS_CSTO);
    expect(titles).not.toContain(GSV_COUP);
    expect(titles).not.toContain(GSV_CSTO);
    // Same topic, same day, another story: it stays an entry of its own.
    expect(titles).toContain(GSV_BUDGET);
    expect(new Set(titles).size).toBe(titles.length);

    const coup = kz.entries.find((e) => e.title === TASS_COUP)!;
    expect(coup.content).toContain('Also reported by: <a href="https://russia-islworld.example/en/news/2112-tokayev-coup">GSV</a>');
    const budget = kz.entries.find((e) => e.title === GSV_BUDGET)!;
    expect(budget.content).not.toContain('Also reported by');
  });

  it('lists every report in an output with every_item, each with its own id', async () => {
    await poll('tass-en');
    await poll('gsv');
    const all = await feed('/feeds/kazakhstan-all.atom');
    const titles = all.entries.map((e) => e.title);
    expect(titles).toEqual(expect.arrayContaining([TASS_COUP, GSV_COUP, TASS_CSTO, GSV_CSTO, GSV_BUDGET]));
    const ids = all.entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const one = await feed('/feeds/kazakhstan.atom');
    expect(all.entries.length - one.entries.length).toBe(2);
  });

  it('keeps the entry id when the first-published report arrives after a repost, and lets it lead', async () => {
    await poll('gsv');
    const before = (await feed('/feeds/kazakhstan.atom')).entries.find((e) => e.title === GSV_COUP)!;
    expect(before.content).not.toContain('Also reported by');

    expect(await poll('tass-en')).toMatchObject({ new: 10, merged: 2 });
    const after = await feed('/feeds/kazakhstan.atom');
    expect(after.entries.map((e) => e.title)).not.toContain(GSV_COUP);
    const lead = after.entries.find((e) => e.title === TASS_COUP)!;
    expect(lead.id).toBe(before.id);
    expect(lead.content).toContain('Also reported by: <a href="https://russia-islworld.example/en/news/2112-tokayev-coup">GSV</a>');
    // The entry changed (new lead, new link), so its updated time moved on.
    expect(Date.parse(lead.updated)).toBeGreaterThan(Date.parse(before.updated));
  });

  it('never merges two items of the same source, however alike', async () => {
    const twice = fixture('gsv-en.xml').replace(
      '<item>',
      `<item><title>Tokayev describes Kazakhstan unrest as an attempted coup</title><link>https://russia-islworld.example/en/news/2112-tokayev-coup-2</link><guid>gsv-2112-0411</guid><pubDate>Thu, 23 Dec 2021 22:00:00 +0300</pubDate><description><![CDATA[<p>Kazakh President Kassym-Jomart Tokayev described the riots in Kazakhstan as an attempted coup d'etat in an address to the nation.</p>]]></description></item>\n<item>`,
    );
    server.set('/gsv-en.xml', { body: twice });
    expect(await poll('gsv')).toMatchObject({ new: 5, merged: 0 });
    const titles = (await feed('/feeds/kazakhstan.atom')).entries.map((e) => e.title);
    expect(titles).toContain(GSV_COUP);
    expect(titles).toContain('Tokayev describes Kazakhstan unrest as an attempted coup');
  });

  it('finds no story outside the dedup window', async () => {
    // The same repost, dated a week after the TASS report: old news told again is another story.
    server.set('/gsv-en.xml', { body: fixture('gsv-en.xml').replaceAll('23 Dec 2021', '30 Dec 2021') });
    await poll('tass-en');
    expect(await poll('gsv')).toMatchObject({ new: 4, merged: 0 });
  });
});
