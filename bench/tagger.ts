// How many items per second the tagger handles on one core with the default topics of
// config/newsloom.yaml. Items are built from the sentences of the labelled evaluation set
// (tests/eval/tagging.yaml), half in English and half in Russian, so vocabulary and inflections look
// like wire news: feed items as TASS sends them (a title and a two-sentence summary), and items with
// a body of about 120 words more. Most items match a topic, which is the costly case.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.ts';
import { compileTopics, tagItem, type TaggableItem } from '../src/pipeline/tagger.ts';
import { tokenize } from '../src/text/words.ts';
import { runIfMain, type BenchResult } from './lib.ts';

const ITEMS = 5_000;
const TARGET = 20_000;
const DURATION_MS = 2_000;

interface EvalItem {
  lang: string;
  title: string;
  summary?: string;
}

/** A deterministic pseudo-random sequence, so every run tags the same items. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function buildItems(bodySentences: number): TaggableItem[] {
  const { items } = parse(readFileSync(new URL('../tests/eval/tagging.yaml', import.meta.url), 'utf8')) as { items: EvalItem[] };
  const sentences = (lang: string) => items.filter((i) => i.lang === lang).flatMap((i) => [i.title, i.summary ?? '']).filter((s) => s.length > 0);
  const byLang = { en: sentences('en'), ru: sentences('ru') };
  const next = random(42);
  const pick = (list: string[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: ITEMS }, (_, n) => {
    const lang = n % 2 === 0 ? 'en' : 'ru';
    const pool = byLang[lang];
    return {
      sourceId: `tass-${lang}`,
      language: lang,
      title: pick(pool),
      summaryText: `${pick(pool)} ${pick(pool)}`,
      contentText: Array.from({ length: bodySentences }, () => pick(pool)).join(' '),
      categories: [lang === 'en' ? 'World' : 'Международная панорама'],
      author: null,
    };
  });
}

/**
 * Items per CPU-second for fn over the items, repeated until the time is up (after a warm-up pass).
 * CPU time rather than wall time, because the machines this runs on are shared: waiting for a core
 * is not the tagger's cost. It counts every thread of the process (the garbage collector's too).
 */
function rate(items: TaggableItem[], fn: (item: TaggableItem) => unknown): number {
  for (const item of items) fn(item);
  let done = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < DURATION_MS) {
    for (const item of items) fn(item);
    done += items.length;
  }
  const used = process.cpuUsage(cpu);
  return done / ((used.user + used.system) / 1e6);
}

export async function run(): Promise<BenchResult> {
  const config = loadConfig(new URL('../config/newsloom.yaml', import.meta.url).pathname, {});
  const tagger = compileTopics(config.topics);
  const figures = [
    { label: 'feed items (title + summary)', items: buildItems(0) },
    { label: 'items with a body', items: buildItems(18) },
  ].map(({ label, items }) => {
    const words = items.reduce((sum, i) => sum + tokenize(`${i.title} ${i.summaryText} ${i.contentText}`).length, 0) / items.length;
    const tagged = rate(items, (item) => tagItem(tagger, item));
    const tokenizing = rate(items, (item) => [item.title, item.summaryText, item.contentText].map(tokenize));
    return {
      label: `${label}, ${Math.round(words)} words, tagged`,
      value: tagged,
      unit: 'items/CPU-s',
      target: `≥ ${TARGET.toLocaleString('en-US')}`,
      ok: tagged >= TARGET,
      yardstick: { label: 'tokenize() alone', value: tokenizing, unit: 'items/CPU-s' },
    };
  });
  return Promise.resolve({ name: `tagger: default topics (${config.topics.length} topics, ${tagger.termCount} terms), en + ru, one core`, figures });
}

await runIfMain(import.meta.url, run);
