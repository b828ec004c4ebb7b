// The story band index alone (src/store/band-index.ts), without a database: 166,000 reports of bench/dedup.ts's
// news-like text indexed (what its index holds at the end of the burst flow: 2 × the dedup window of existing items
// and 100,000 new ones), then 20,000 lookups of other sources' prints; µs per report added, per lookup, and per print's band paths (storyBands). The time of each part is
// the median of five rounds. Run: node bench/band-index.ts   (REPORTS=50000 for a smaller index)
import { BandIndex } from '../src/store/band-index.ts';
import { storyBands, storyPrint } from '../src/text/stories.ts';
import { runIfMain, type BenchResult } from './lib.ts';
import { TextMaker } from './support/text-maker.ts';

const REPORTS = Number(process.env.REPORTS ?? 166_000);
const LOOKUPS = 20_000;
const ROUNDS = 5;
const SOURCES = 100;
const WINDOW_MS = 3 * 86_400_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export function run(): Promise<BenchResult> {
  const newest = Date.UTC(2026, 10, 1);
  const text = new TextMaker(42, 42);
  const reports = Array.from({ length: REPORTS }, (_, n) => {
    const words = text.words(53);
    const { words: print } = storyPrint({ title: words.slice(0, 8).join(' '), summaryText: words.slice(8).join(' '), contentText: '' });
    return { itemId: n + 1, storyId: n + 1, sourceId: `src-${n % SOURCES}`, publishedAt: newest - (REPORTS - n) * 3_000, words: print };
  });
  const adds: number[] = [];
  const lookups: number[] = [];
  const paths: number[] = [];
  let found = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    const bands = reports.map((report) => storyBands(report.words));
    paths.push(((performance.now() - started) * 1000) / REPORTS);
    const index = new BandIndex();
    started = performance.now();
    for (let n = 0; n < REPORTS; n++) index.add(reports[n]!, bands[n]!);
    adds.push(((performance.now() - started) * 1000) / REPORTS);
    started = performance.now();
    found = 0;
    for (let k = 0; k < LOOKUPS; k++) {
      const n = (k * 7919) % REPORTS;
      found += index.matches(bands[n]!, 'another', reports[n]!.publishedAt, WINDOW_MS, 8).length;
    }
    lookups.push(((performance.now() - started) * 1000) / LOOKUPS);
  }
  return Promise.resolve({
    name: `band index: ${REPORTS.toLocaleString('en-US')} reports, ${LOOKUPS.toLocaleString('en-US')} lookups, median of ${ROUNDS} rounds`,
    figures: [
      { label: 'band paths of a print (storyBands)', value: median(paths), unit: 'µs' },
      { label: 'a report added', value: median(adds), unit: 'µs' },
      { label: 'a lookup (8 candidates at most)', value: median(lookups), unit: 'µs' },
      { label: 'candidates found per lookup', value: found / LOOKUPS, unit: 'reports' },
    ],
  });
}

await runIfMain(import.meta.url, run);
