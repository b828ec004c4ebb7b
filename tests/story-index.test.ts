import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { pipelineOn } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { prepareItems, storeItems } from '../src/pipeline/ingest.ts';
import { normalize } from '../src/pipeline/normalize.ts';
import type { Store, Transaction } from '../src/store/store.ts';
import { ENGINES, useEngine, type EngineUse } from './helpers/engines.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const config = parseConfig(`sources: [{ id: tass, url: "http://127.0.0.1/a.xml" }, { id: gsv, url: "http://127.0.0.1/b.xml" }]`, 'test.yaml', {});
const TEXT = 'Kazakh President Kassym-Jomart Tokayev described the riots in Kazakhstan as an attempted coup in an address to the nation on Friday.';

async function store(file: string, sourceId: string, n: number, title: string): Promise<{ new: number; merged: number }> {
  const target = stored.get(file)!;
  const document = await prepared(target, sourceId, n, title);
  return target.transaction((tx) => ingest(tx, document));
}
async function prepared(target: Store, sourceId: string, n: number, title: string) {
  const raw = { guid: `${sourceId}-${n}`, url: `https://${sourceId}.example/${n}`, title, summary: title.startsWith('Markets') ? 'Shares in banks and miners led the gains on the exchange, traders said.' : TEXT, published: new Date(NOW - n * 60_000).toISOString() };
  const item = normalize(raw, { sourceId, language: 'en', baseUrl: `https://${sourceId}.example/`, now: NOW });
  const ctx = await pipelineOn(target, config, silentLogger, () => NOW);
  return { ctx, document: await prepareItems(ctx, [item]) };
}
async function ingest(tx: Transaction, { ctx, document }: Awaited<ReturnType<typeof prepared>>) {
  const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
  await storeItems(tx, ctx, document, NOW, counts);
  return counts;
}

const stored = new Map<string, Store>();
afterEach(() => stored.clear());

/** Opens a store on the test's database (the engine closes it after the test), by a name. */
async function open(use: EngineUse, name: string): Promise<string> {
  stored.set(name, await use.open());
  return name;
}

describe.each(ENGINES)('the index of recent stories (%s)', (engine) => {
  const use = useEngine(engine);

  it('finds a report that another connection stored after the index was built', async () => {
    const daemon = await open(use, 'daemon');
    const cli = await open(use, 'cli');
    // The daemon's index is built before the other connection stores the original.
    expect(await store(daemon, 'gsv', 1, 'Markets open higher in Astana after a quiet week')).toMatchObject({ new: 1, merged: 0 });
    expect(await store(cli, 'tass', 2, 'Tokayev calls Kazakhstan unrest an attempted coup')).toMatchObject({ new: 1, merged: 0 });
    expect(await store(daemon, 'gsv', 3, 'Tokayev describes unrest in Kazakhstan as attempted coup')).toMatchObject({ new: 1, merged: 1 });
  });

  it('forgets a report whose transaction was rolled back', async () => {
    const db = await open(use, 'db');
    const target = stored.get(db)!;
    expect(await store(db, 'gsv', 1, 'Markets open higher in Astana after a quiet week')).toMatchObject({ merged: 0 });
    const report = await prepared(target, 'tass', 2, 'Tokayev calls Kazakhstan unrest an attempted coup');
    await expect(
      target.transaction(async (tx) => {
        await ingest(tx, report);
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    // The rolled-back report is no story to join: the repost starts its own.
    expect(await store(db, 'gsv', 3, 'Tokayev describes unrest in Kazakhstan as attempted coup')).toMatchObject({ new: 1, merged: 0 });
    expect(await store(db, 'tass', 4, 'Tokayev calls Kazakhstan unrest an attempted coup')).toMatchObject({ new: 1, merged: 1 });
  });
});
