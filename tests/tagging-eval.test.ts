// Measures the default topics on a labelled set of English and Russian items (tests/eval/), with the
// false friends that naive matching falls for, and fails when precision or recall drops below 0.95.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { compileTopics, tagItem, type TaggableItem } from '../src/pipeline/tagger.ts';

interface EvalItem {
  lang: string;
  topics?: string[];
  title: string;
  summary?: string;
  content?: string;
  categories?: string[];
  author?: string;
}

const read = (path: string) => parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, unknown>;
const shipped = read('../config/newsloom.yaml');
const evalSet = read('eval/tagging.yaml') as { topics: unknown[]; items: EvalItem[] };
const config = parseConfig(stringify({ topics: [...(shipped.topics as unknown[]), ...evalSet.topics] }), 'tests/eval/tagging.yaml', {});
const tagger = compileTopics(config.topics);
const DEFAULT_TOPICS = (shipped.topics as { id: string }[]).map((t) => t.id);

/** The true labels of an item; csto-kazakhstan is defined as kazakhstan AND csto, so it is their conjunction. */
function truth(item: EvalItem): Set<string> {
  const labels = new Set(item.topics ?? []);
  if (labels.has('kazakhstan') && labels.has('csto')) labels.add('csto-kazakhstan');
  return labels;
}

function asItem(item: EvalItem): TaggableItem {
  return {
    sourceId: `eval-${item.lang}`,
    language: item.lang,
    title: item.title,
    summaryText: item.summary ?? '',
    contentText: item.content ?? '',
    categories: item.categories ?? [],
    author: item.author ?? null,
  };
}

interface Score {
  topic: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  wrong: string[];
}

function score(): Score[] {
  const scores = new Map(config.topics.map((t) => [t.id, { topic: t.id, tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, wrong: [] as string[] }]));
  for (const item of evalSet.items) {
    const expected = truth(item);
    const got = new Set(tagItem(tagger, asItem(item)).map((t) => t.topic));
    for (const s of scores.values()) {
      const want = expected.has(s.topic);
      const has = got.has(s.topic);
      if (want && has) s.tp++;
      else if (has) {
        s.fp++;
        s.wrong.push(`false positive: ${item.title}`);
      } else if (want) {
        s.fn++;
        s.wrong.push(`missed: ${item.title}`);
      }
    }
  }
  return [...scores.values()].map((s) => ({ ...s, precision: s.tp / (s.tp + s.fp || 1), recall: s.tp / (s.tp + s.fn || 1) }));
}

describe('tagging quality on the labelled evaluation set', () => {
  const scores = score();

  it('has at least 200 items in English and Russian, labelled for more topics than the defaults', () => {
    expect(evalSet.items.length).toBeGreaterThanOrEqual(200);
    expect(new Set(evalSet.items.map((i) => i.lang))).toEqual(new Set(['en', 'ru']));
    const labelled = new Set(evalSet.items.flatMap((i) => i.topics ?? []));
    for (const topic of ['kazakhstan', 'csto', 'kazan', 'uzbekistan', 'sco']) expect(labelled).toContain(topic);
    for (const labels of evalSet.items.map((i) => i.topics ?? [])) for (const t of labels) expect(config.topics.map((c) => c.id)).toContain(t);
  });

  it('reaches 0.95 precision and recall on the default topics (kazakhstan, csto)', () => {
    const rows = scores.map((s) => `  ${s.topic.padEnd(16)} precision ${s.precision.toFixed(3)}  recall ${s.recall.toFixed(3)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})`);
    console.log(`tagging evaluation, ${evalSet.items.length} items:\n${rows.join('\n')}\n${scores.flatMap((s) => s.wrong.map((w) => `  ${s.topic}: ${w}`)).join('\n')}`);
    for (const topic of DEFAULT_TOPICS) {
      const s = scores.find((x) => x.topic === topic)!;
      expect(s.tp, topic).toBeGreaterThan(20);
      expect(s.precision, `${topic} precision`).toBeGreaterThanOrEqual(0.95);
      expect(s.recall, `${topic} recall`).toBeGreaterThanOrEqual(0.95);
    }
  });

  // A regression guard, not a target: these short term lists keep a few honest misses (see the printout).
  it('keeps the extra topics, a topic reference and a `not` rule among them, at 0.85 or better', () => {
    for (const s of scores.filter((x) => !DEFAULT_TOPICS.includes(x.topic))) {
      expect(s.precision, `${s.topic} precision`).toBeGreaterThanOrEqual(0.85);
      expect(s.recall, `${s.topic} recall`).toBeGreaterThanOrEqual(0.85);
    }
  });
});
