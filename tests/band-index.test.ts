import { describe, expect, it } from 'vitest';
import { BandIndex, type IndexedReport } from '../src/store/band-index.ts';

const HOUR = 3_600_000;
const report = (itemId: number, sourceId: string, publishedAt: number): IndexedReport => ({ itemId, storyId: itemId, sourceId, publishedAt, words: new Uint32Array() });

describe('the in-memory band index', () => {
  it('still finds a recent original in a bucket crowded by a common word', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // 200 earlier reports share band 7 (a common word), then the original of the repost arrives.
    for (let i = 1; i <= 200; i++) index.add(report(i, `wire-${i % 5}`, now - 40 * HOUR + i * 60_000), [7, 1000 + i]);
    index.add(report(500, 'tass-en', now - 2 * HOUR), [7, 42]);
    const found = index.matches([7], 'gsv-en', now, 72 * HOUR);
    expect([...found.keys()].map((r) => r.itemId)).toContain(500);
    expect(found.size).toBeLessThanOrEqual(64);
  });

  it('counts shared bands, and leaves out the same source and reports outside the window', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    index.add(report(1, 'tass-en', now - HOUR), [1, 2, 3]);
    index.add(report(2, 'gsv-en', now - HOUR), [1, 2]);
    index.add(report(3, 'rbc', now - 100 * HOUR), [1, 2, 3]);
    const found = index.matches([1, 2, 3], 'gsv-en', now, 72 * HOUR);
    expect([...found.entries()].map(([r, n]) => [r.itemId, n])).toEqual([[1, 3]]);
  });
});
