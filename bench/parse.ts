// Feed parsing speed: a 50-item RSS 2.0 feed and a 50-item Atom 1.0 feed (English and Russian), parsed by
// parseFeed alone and prepared the way a poll prepares them (decode, parse, normalize, sanitize), in items/s.
import { prepareFeed } from '../src/pipeline/prepare.ts';
import { parseFeed } from '../src/sources/feed.ts';
import { runIfMain, type BenchResult, type Figure } from './lib.ts';
import { atomFeed, rssFeed, syntheticItem } from './synthetic.ts';

const ITEMS = 50;
const ROUNDS = 400;

function feeds(format: typeof rssFeed): string[] {
  return [0, 1].map((feed) => format(`wire ${feed}`, Array.from({ length: ITEMS }, (_, i) => syntheticItem(feed, i))));
}

/** Items per second over ROUNDS passes of the feeds, after a warm-up pass of a tenth of that. */
async function rate(texts: string[], once: (text: string) => Promise<unknown>): Promise<number> {
  for (let round = 0; round < ROUNDS / 10; round++) for (const text of texts) await once(text);
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) for (const text of texts) await once(text);
  return (ROUNDS * texts.length * ITEMS) / ((performance.now() - started) / 1000);
}

export async function run(): Promise<BenchResult> {
  const figures: Figure[] = [];
  for (const [name, format] of [['RSS', rssFeed], ['Atom', atomFeed]] as const) {
    const texts = feeds(format);
    figures.push({ label: `parseFeed, ${ITEMS}-item ${name} feed`, value: await rate(texts, (text) => Promise.resolve(parseFeed(text))), unit: 'items/s' });
    const bodies = texts.map((text) => Buffer.from(text));
    let next = 0;
    const prepare = () => prepareFeed({ sourceId: 'wire', language: null, timeZone: 'UTC', body: bodies[next++ % bodies.length]!, contentType: 'application/xml', url: 'https://wire.example/feed', now: Date.UTC(2026, 11, 1), withRaw: false });
    figures.push({ label: `  decode, parse, normalize, sanitize (prepareFeed)`, value: await rate(texts, prepare), unit: 'items/s' });
  }
  return { name: 'feed parsing', figures };
}

await runIfMain(import.meta.url, run);
