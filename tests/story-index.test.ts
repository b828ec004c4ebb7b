import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { pipelineOn } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { storeItems } from '../src/pipeline/ingest.ts';
import { normalize } from '../src/pipeline/normalize.ts';
import { openStore, type Store } from '../src/store/store.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const config = parseConfig(`sources: [{ id: tass, url: "http://127.0.0.1/a.xml" }, { id: gsv, url: "http://127.0.0.1/b.xml" }]`, 'test.yaml', {});
const TEXT = 'Kazakh President Kassym-Jomart Tokayev described the riots in Kazakhstan as an attempted coup in an address to the nation on Friday.';

function store(file: string, sourceId: string, n: number, title: string): { new: number; merged: number } {
  return stored.get(file)!.transaction(() => ingest(stored.get(file)!, sourceId, n, title));
}
function ingest(target: Store, sourceId: string, n: number, title: string) {
  const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
  const raw = { guid: `${sourceId}-${n}`, url: `https://${sourceId}.example/${n}`, title, summary: title.startsWith('Markets') ? 'Shares in banks and miners led the gains on the exchange, traders said.' : TEXT, published: new Date(NOW - n * 60_000).toISOString() };
  const item = normalize(raw, { sourceId, language: 'en', baseUrl: `https://${sourceId}.example/`, now: NOW });
  storeItems(pipelineOn(target, config, silentLogger, () => NOW), [item], NOW, counts);
  return counts;
}

const stored = new Map<string, Store>();
let dir: string;
afterEach(() => {
  for (const s of stored.values()) s.close();
  stored.clear();
  rmSync(dir, { recursive: true, force: true });
});

function open(name: string, file: string): string {
  stored.set(name, openStore(file));
  return name;
}

describe('the story band index in memory', () => {
  it('finds a report that another connection stored after the index was built', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-story-index-'));
    const file = path.join(dir, 'newsloom.db');
    const daemon = open('daemon', file);
    const cli = open('cli', file);
    // The daemon's index is built before the other connection stores the original.
    expect(store(daemon, 'gsv', 1, 'Markets open higher in Astana after a quiet week')).toMatchObject({ new: 1, merged: 0 });
    expect(store(cli, 'tass', 2, 'Tokayev calls Kazakhstan unrest an attempted coup')).toMatchObject({ new: 1, merged: 0 });
    expect(store(daemon, 'gsv', 3, 'Tokayev describes unrest in Kazakhstan as attempted coup')).toMatchObject({ new: 1, merged: 1 });
  });

  it('forgets a report whose transaction was rolled back', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-story-index-'));
    const db = open('db', path.join(dir, 'newsloom.db'));
    const target = stored.get(db)!;
    expect(store(db, 'gsv', 1, 'Markets open higher in Astana after a quiet week')).toMatchObject({ merged: 0 });
    expect(() =>
      target.transaction(() => {
        ingest(target, 'tass', 2, 'Tokayev calls Kazakhstan unrest an attempted coup');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    // The rolled-back report is no story to join: the repost starts its own.
    expect(store(db, 'gsv', 3, 'Tokayev describes unrest in Kazakhstan as attempted coup')).toMatchObject({ new: 1, merged: 0 });
    expect(store(db, 'tass', 4, 'Tokayev calls Kazakhstan unrest an attempted coup')).toMatchObject({ new: 1, merged: 1 });
  });
});
