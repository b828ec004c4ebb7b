import { describe, expect, it } from 'vitest';
import { BandIndex, BUCKET_SIZE, type IndexedReport } from '../src/store/band-index.ts';

const HOUR = 3_600_000;
/** Bands of one key each: paths that end at their first bucket. */
const one = (keys: number[]) => keys.map((key) => [key]);
const report = (itemId: number, sourceId: string, publishedAt: number): IndexedReport => ({ itemId, storyId: itemId, sourceId, publishedAt, words: new Uint32Array() });

describe('the in-memory band index', () => {
  it('still finds a recent original in a bucket crowded by a common word', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // 200 earlier reports share band 7 (a common word), then the original of the repost arrives.
    for (let i = 1; i <= 200; i++) index.add(report(i, `wire-${i % 5}`, now - 40 * HOUR + i * 60_000), one([7, 1000 + i]));
    index.add(report(500, 'tass-en', now - 2 * HOUR), one([7, 42]));
    const found = index.matches(one([7]), 'gsv-en', now, 72 * HOUR);
    expect(found.map(({ report }) => report.itemId)).toContain(500);
    expect(found.length).toBeLessThanOrEqual(BUCKET_SIZE);
  });

  it('finds an original stored before a burst that crowded its bucket, through the next words of its band', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // The original's band: its smallest word is common (key 7), its next ones are not (71, 711).
    index.add(report(500, 'tass-en', now - 20 * HOUR), [[7, 71, 711]]);
    // A burst: 5,000 reports whose smallest word is the same common one, each with its own next words.
    for (let i = 1; i <= 5000; i++) index.add(report(1000 + i, `wire-${i % 5}`, now - 19 * HOUR), [[7, 10_000 + (i % 300), 20_000 + i]]);
    const found = index.matches([[7, 71, 711]], 'gsv-en', now - 18 * HOUR, 72 * HOUR);
    expect(found.map(({ report }) => report.itemId)).toContain(500);
    // No bucket grows past what a lookup reads: a lookup meets a few buckets' worth (three keys and the latest).
    expect(found.length).toBeLessThanOrEqual(4 * BUCKET_SIZE);
    // A repost that kept only the common word finds what that word's first bucket and latest reports hold.
    const common = index.matches([[7, 72, 722]], 'gsv-en', now - 18 * HOUR, 72 * HOUR);
    expect(common.map(({ report }) => report.itemId)).toContain(6000);
    expect(common.length).toBeLessThanOrEqual(2 * BUCKET_SIZE);
  });

  it('counts a report met twice in one band (its bucket and the latest of its first key) once', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // The first BUCKET_SIZE fill key 7's bucket; the ten after it go one word deeper, and are the latest under key 7.
    const last = BUCKET_SIZE + 10;
    for (let i = 1; i <= last; i++) index.add(report(i, 'wire', now - HOUR), [[7, 1000 + i]]);
    const found = index.matches([[7, 1000 + last], [8]], 'gsv-en', now, 72 * HOUR);
    expect(found).toHaveLength(last);
    expect(found.every(({ shared }) => shared === 1)).toBe(true);
  });

  it('counts shared bands, and leaves out the same source and reports outside the window', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    index.add(report(1, 'tass-en', now - HOUR), one([1, 2, 3]));
    index.add(report(2, 'gsv-en', now - HOUR), one([1, 2]));
    index.add(report(3, 'rbc', now - 100 * HOUR), one([1, 2, 3]));
    const found = index.matches(one([1, 2, 3]), 'gsv-en', now, 72 * HOUR);
    expect(found.map(({ report, shared }) => [report.itemId, shared])).toEqual([[1, 3]]);
  });

  it('gives the reports sharing the most bands first, and no more than asked for', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // Report n shares n of the bands 1…8; reports 11 and 12 share two, like report 2, and come later.
    for (let n = 1; n <= 8; n++) index.add(report(n, 'tass-en', now - HOUR), one(Array.from({ length: n }, (_, b) => b + 1)));
    index.add(report(11, 'rbc', now - HOUR), one([7, 8]));
    index.add(report(12, 'rbc', now - HOUR), one([1, 2]));
    const top = index.matches(one([1, 2, 3, 4, 5, 6, 7, 8]), 'gsv-en', now, 72 * HOUR, 4);
    expect(top.map(({ report, shared }) => [report.itemId, shared])).toEqual([[8, 8], [7, 7], [6, 6], [5, 5]]);
    const ties = index.matches(one([1, 2, 3, 4, 5, 6, 7, 8]), 'gsv-en', now, 72 * HOUR, 8);
    // Among the reports sharing two bands, the one met first in band 1's bucket (newest first) comes first.
    expect(ties.map(({ report }) => report.itemId)).toEqual([8, 7, 6, 5, 4, 3, 12, 2]);
    expect(index.matches(one([1, 2, 3, 4, 5, 6, 7, 8]), 'gsv-en', now, 72 * HOUR)).toHaveLength(10);
  });

  it('tallies prints of more bands than the usual eight, each lookup afresh', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    const bands = Array.from({ length: 40 }, (_, b) => b);
    // Report n has the bands from n on: it shares 40 - n of the 40 looked up (no bucket holds more than 30).
    for (let n = 1; n <= 30; n++) index.add(report(n, `wire-${n % 3}`, now - HOUR), one(bands.slice(n % 40)));
    const found = index.matches(one(bands), 'gsv-en', now, 72 * HOUR);
    expect(found).toHaveLength(30);
    expect(found.map(({ shared }) => shared)).toEqual([...found.map(({ shared }) => shared)].sort((a, b) => b - a));
    for (const { report, shared } of found) expect(shared).toBe(40 - (report.itemId % 40));
    expect(index.matches(one([39]), 'gsv-en', now, 72 * HOUR).every(({ shared }) => shared === 1)).toBe(true);
  });

  it('counts each lookup afresh', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    index.add(report(1, 'tass-en', now - HOUR), one([1, 2, 3]));
    expect(index.matches(one([1, 2, 3]), 'gsv-en', now, 72 * HOUR)[0]!.shared).toBe(3);
    expect(index.matches(one([3]), 'gsv-en', now, 72 * HOUR)[0]!.shared).toBe(1);
  });

  it('forgets reports published before a trim and still finds the others, old and new', () => {
    const index = new BandIndex();
    const now = Date.UTC(2026, 5, 1);
    // More reports than the first allocation holds, so that the slots grow and then shrink again.
    // Each report's words are its number, 1 to 40 times: the pool of words grows past its first size too.
    const words = (i: number) => new Uint32Array(1 + (i % 40)).fill(i);
    for (let i = 1; i <= 3000; i++) index.add({ ...report(i, `wire-${i % 3}`, now - (3001 - i) * 60_000), words: words(i) }, one([i % 7, 100 + i]));
    expect([...index.matches(one([100 + 17]), 'gsv-en', now, 72 * HOUR)[0]!.report.words]).toEqual([...words(17)]);
    index.trim(now - 1000 * 60_000);
    expect(index.matches(one([100 + 1500]), 'gsv-en', now, 72 * HOUR)).toEqual([]);
    expect(index.matches(one([100 + 2500]), 'gsv-en', now, 72 * HOUR).map(({ report }) => report.itemId)).toEqual([2500]);
    expect([...index.matches(one([100 + 2500]), 'gsv-en', now, 72 * HOUR)[0]!.report.words]).toEqual([...words(2500)]);
    index.add(report(5000, 'tass-en', now), one([100 + 2500]));
    expect(index.matches(one([100 + 2500]), 'gsv-en', now, 72 * HOUR).map(({ report }) => report.itemId)).toEqual([5000, 2500]);
    // A crowded bucket after the trim holds only the kept reports, newest first.
    const crowded = index.matches(one([3]), 'gsv-en', now, 72 * HOUR);
    expect(crowded.every(({ report }) => report.itemId >= 2001)).toBe(true);
    expect(crowded[0]!.report.itemId).toBe(2999);
  });
});
