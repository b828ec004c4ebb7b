// Measures the default topics on labelled sets of English and Russian items (tests/eval/), with the false friends that
// naive matching falls for, and fails when precision or recall drops below the set's target (0.95; 0.97 on names.yaml).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { compileTopics, tagItem, type TaggableItem, type Tagger } from '../src/pipeline/tagger.ts';

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
const DEFAULT_TOPICS = (shipped.topics as { id: string }[]).map((t) => t.id);

/** A labelled set (tests/eval/), tagged with the default topics plus the set's own. */
function evaluation(file: string) {
  const set = read(`eval/${file}`) as { topics?: unknown[]; items: EvalItem[] };
  const config = parseConfig(stringify({ topics: [...(shipped.topics as unknown[]), ...(set.topics ?? [])] }), `tests/eval/${file}`, {});
  return { items: set.items, topics: config.topics.map((t) => t.id), scores: score(set.items, compileTopics(config.topics), config.topics.map((t) => t.id)) };
}

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

function score(items: EvalItem[], tagger: Tagger, topics: string[]): Score[] {
  const scores = new Map(topics.map((id) => [id, { topic: id, tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, wrong: [] as string[] }]));
  for (const item of items) {
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

/** Prints a set's figures per topic, and what it got wrong. */
function report(name: string, items: number, scores: Score[]): void {
  const rows = scores.map((s) => `  ${s.topic.padEnd(16)} precision ${s.precision.toFixed(3)}  recall ${s.recall.toFixed(3)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})`);
  console.log(`${name}, ${items} items:\n${rows.join('\n')}\n${scores.flatMap((s) => s.wrong.map((w) => `  ${s.topic}: ${w}`)).join('\n')}`);
}

/** Asserts precision and recall of the default topics, each with more than `minTrue` true positives. */
function expectDefaultTopics(scores: Score[], target: number, minTrue: number): void {
  for (const topic of DEFAULT_TOPICS) {
    const s = scores.find((x) => x.topic === topic)!;
    expect(s.tp, topic).toBeGreaterThan(minTrue);
    expect(s.precision, `${topic} precision`).toBeGreaterThanOrEqual(target);
    expect(s.recall, `${topic} recall`).toBeGreaterThanOrEqual(target);
  }
}

describe('tagging quality on the labelled evaluation set', () => {
  const { items, topics, scores } = evaluation('tagging.yaml');

  it('has at least 200 items in English and Russian, labelled for more topics than the defaults', () => {
    expect(items.length).toBeGreaterThanOrEqual(200);
    expect(new Set(items.map((i) => i.lang))).toEqual(new Set(['en', 'ru']));
    const labelled = new Set(items.flatMap((i) => i.topics ?? []));
    for (const topic of ['kazakhstan', 'csto', 'kazan', 'uzbekistan', 'sco']) expect(labelled).toContain(topic);
    for (const labels of items.map((i) => i.topics ?? [])) for (const t of labels) expect(topics).toContain(t);
  });

  it('reaches 0.95 precision and recall on the default topics (kazakhstan, csto)', () => {
    report('tagging evaluation', items.length, scores);
    expectDefaultTopics(scores, 0.95, 20);
  });

  // A regression guard, not a target: these short term lists keep a few honest misses (see the printout).
  it('keeps the extra topics, a topic reference and a `not` rule among them, at 0.85 or better', () => {
    for (const s of scores.filter((x) => !DEFAULT_TOPICS.includes(x.topic))) {
      expect(s.precision, `${s.topic} precision`).toBeGreaterThanOrEqual(0.85);
      expect(s.recall, `${s.topic} recall`).toBeGreaterThanOrEqual(0.85);
    }
  });
});

describe('tagging quality on names, word forms and traps', () => {
  const { items, topics, scores } = evaluation('names.yaml');

  it('has at least 400 items in English and Russian, the traps included', () => {
    expect(items.length).toBeGreaterThanOrEqual(400);
    expect(new Set(items.map((i) => i.lang))).toEqual(new Set(['en', 'ru']));
    for (const labels of items.map((i) => i.topics ?? [])) for (const t of labels) expect(topics).toContain(t);
    const text = items.map((i) => `${i.title} ${i.summary ?? ''}`).join('\n');
    // Hyphenated names in every case, possessives, compounds, and the false friends.
    for (const form of ['Алма-Ата', 'Алма-Аты', 'Алма-Ате', 'Алма-Ату', 'Алма-Атой', 'Нур-Султане', 'Усть-Каменогорске', 'Улан-Удэ', 'Санкт-Петербурге'])
      expect(text, form).toContain(form);
    for (const form of ["Kazakhstan's", "CSTO's", 'Almaty-based', 'CSTO-led', 'Kazan', 'Казань', 'Казаки', 'Kazakov', 'Султан', 'CST']) expect(text, form).toContain(form);
  });

  it('reaches 0.97 precision and recall on the default topics (kazakhstan, csto)', () => {
    report('names evaluation', items.length, scores);
    expectDefaultTopics(scores, 0.97, 50);
  });
});
