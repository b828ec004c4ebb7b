// Topic tagging. A topic holds an item when one of its `any` terms matches (if it has any), every
// `all` group has a matching term, no `not` term matches, and the item passes its source and language
// limits. Terms are found in one pass over the item's words, through indexes built when the config
// loads, so the cost per item barely grows with the number of terms (see rules.ts for their syntax).
import { createHash } from 'node:crypto';
import type { Item, Tag, TopicField, TopicMatch } from '../item.ts';
import { TOPIC_FIELDS } from '../item.ts';
import type { TopicConfig } from '../config/schema.ts';
import { MIN_STEMMED_LENGTH, parseTerm, type Term, type WordPattern } from './rules.ts';
import { firstTwo, fold, stem, WordReader } from '../text/words.ts';

/** Raise when the matching itself changes, so stored tags are recomputed even if the config did not change. */
const MATCHING_VERSION = 3;
const PREFIX_KEY_LENGTH = 3;

/** The item fields tagging reads. */
export type TaggableItem = Pick<Item, 'sourceId' | 'language' | 'title' | 'summaryText' | 'contentText' | 'categories' | 'author'>;

interface WordsTerm {
  id: number;
  topic: number;
  source: string;
  words: WordPattern[];
}

interface RegexTerm {
  id: number;
  topic: number;
  source: string;
  regex: RegExp;
}

/** One term of a topic's rule: a term found in the text, or another topic. */
type Clause = { kind: 'term'; id: number } | { kind: 'topic'; index: number };

interface CompiledTopic {
  id: string;
  /** Bits of the fields its terms are searched in (see FIELD_BIT). */
  fieldMask: number;
  sources: Set<string> | undefined;
  languages: string[] | undefined;
  any: Clause[];
  all: Clause[][];
  not: Clause[];
}

export interface Tagger {
  /** Topics in config order. */
  topics: CompiledTopic[];
  /** Topic indexes in an order where every referenced topic comes before the topics that refer to it. */
  order: number[];
  /** A hash of everything that decides tags: when it changes, stored items need re-tagging. */
  hash: string;
  fieldMask: number;
  /** How many terms (with a text to find) all topics hold; term ids are 0 … termCount-1. */
  termCount: number;
  /** First words of terms: by every stem of their forms, by short word, by exact word, by prefix start. */
  byStem: Map<string, WordsTerm[]>;
  byShortWord: Map<string, WordsTerm[]>;
  byExactWord: Map<string, WordsTerm[]>;
  byPrefix: Map<string, WordsTerm[]>;
  /** firstTwo() of the first word of every term: a word that starts otherwise cannot begin a term. */
  starts: Set<number>;
  /** The least minLength of a term's first word matched by its forms: a text word shorter than that is never stemmed. */
  shortestForms: number;
  regexes: RegexTerm[];
}

const FIELD_BIT: Record<TopicField, number> = { title: 1, summary: 2, content: 4, categories: 8, author: 16 };

export function compileTopics(topics: TopicConfig[]): Tagger {
  const tagger: Tagger = {
    topics: [],
    order: [],
    hash: topicsHash(topics),
    fieldMask: 0,
    termCount: 0,
    byStem: new Map(),
    byShortWord: new Map(),
    byExactWord: new Map(),
    byPrefix: new Map(),
    starts: new Set(),
    shortestForms: MIN_STEMMED_LENGTH,
    regexes: [],
  };
  const indexOf = new Map(topics.map((t, i) => [t.id, i]));
  topics.forEach((config, topicIndex) => {
    const clause = (source: string): Clause => {
      const term = parseTerm(source);
      if (term.kind === 'topic') return { kind: 'topic', index: indexOf.get(term.topic)! };
      return { kind: 'term', id: addTerm(tagger, term, topicIndex) };
    };
    const fieldMask = config.fields.reduce((mask, field) => mask | FIELD_BIT[field], 0);
    tagger.fieldMask |= fieldMask;
    tagger.topics.push({
      id: config.id,
      fieldMask,
      sources: config.sources.length > 0 ? new Set(config.sources) : undefined,
      languages: config.languages.length > 0 ? config.languages.map((l) => l.toLowerCase()) : undefined,
      any: config.any.map(clause),
      all: config.all.map((group) => (Array.isArray(group) ? group : [group]).map(clause)),
      not: config.not.map(clause),
    });
  });
  tagger.order = dependencyOrder(tagger.topics);
  return tagger;
}

/** A hash of the tagging rules (not of titles or descriptions) and of the matching code's version. */
export function topicsHash(topics: TopicConfig[]): string {
  const rules = topics.map((t) => ({ id: t.id, any: t.any, all: t.all, not: t.not, fields: t.fields, sources: t.sources, languages: t.languages }));
  return createHash('sha256').update(JSON.stringify({ version: MATCHING_VERSION, rules })).digest('hex').slice(0, 32);
}

function addTerm(tagger: Tagger, term: Exclude<Term, { kind: 'topic' }>, topic: number): number {
  const id = tagger.termCount++;
  if (term.kind === 'regex') {
    tagger.regexes.push({ id, topic, source: term.source, regex: term.regex });
    return id;
  }
  const entry: WordsTerm = { id, topic, source: term.source, words: term.words };
  const first = term.words[0]!;
  const keys = first.kind === 'forms' ? [...first.stems] : [first.kind === 'prefix' ? first.word.slice(0, PREFIX_KEY_LENGTH) : first.word];
  // Most words of a text start differently from every term: checking their first two letters spares
  // them stemming and lookups. For inflected terms the check is against the stems, which is sound
  // because Snowball removes endings only: a word of 4+ letters starts with the letters of its stem.
  for (const key of first.kind === 'exact' ? [fold(first.word)] : keys) tagger.starts.add(firstTwo(key));
  if (first.kind === 'forms') tagger.shortestForms = Math.min(tagger.shortestForms, first.minLength);
  const index = { forms: tagger.byStem, word: tagger.byShortWord, exact: tagger.byExactWord, prefix: tagger.byPrefix }[first.kind];
  for (const key of keys) {
    const list = index.get(key);
    if (list) list.push(entry);
    else index.set(key, [entry]);
  }
  return id;
}

function dependencyOrder(topics: CompiledTopic[]): number[] {
  const order: number[] = [];
  const placed = new Set<number>();
  const visit = (index: number) => {
    if (placed.has(index)) return;
    // The config schema rejects loops, so this recursion ends.
    placed.add(index);
    const t = topics[index]!;
    for (const clause of [...t.any, ...t.all.flat(), ...t.not]) if (clause.kind === 'topic') visit(clause.index);
    order.push(index);
  };
  topics.forEach((_, i) => visit(i));
  return order;
}

/** What the rules say about one topic for one item, with the evidence either way. */
export interface TopicVerdict {
  topic: string;
  tagged: boolean;
  /** The terms that matched, first occurrence each: why it is tagged (or what it would be tagged for). */
  matches: TopicMatch[];
  /** `not` terms that matched: why it is not tagged although terms matched. */
  blockedBy: TopicMatch[];
  /** How many `all` groups found no term. */
  missingGroups: number;
  /** False when the item's source or language is outside the topic's limits. */
  inScope: boolean;
}

/** The topics an item carries, with the words that earned each. */
export function tagItem(tagger: Tagger, item: TaggableItem): Tag[] {
  return evaluate(tagger, item)
    .filter((v) => v.tagged)
    .map((v) => ({ topic: v.topic, matches: v.matches }));
}

/** Every topic's verdict for an item, in config order: what `newsloom explain` prints. */
export function evaluate(tagger: Tagger, item: TaggableItem): TopicVerdict[] {
  const inScope = tagger.topics.map((t) => isInScope(t, item));
  const hits = findTerms(tagger, item, inScope);
  // Most items match no term at all: then no topic holds them, referenced topics included.
  if (hits.size === 0) return tagger.topics.map((t, i) => ({ topic: t.id, tagged: false, matches: [], blockedBy: [], missingGroups: t.all.length, inScope: inScope[i]! }));
  const verdicts: TopicVerdict[] = new Array<TopicVerdict>(tagger.topics.length);
  const evidence = (clause: Clause): TopicMatch[] => {
    if (clause.kind === 'term') {
      const hit = hits.get(clause.id);
      return hit ? [hit] : [];
    }
    const referenced = verdicts[clause.index]!;
    return referenced.tagged ? referenced.matches.map((m) => ({ ...m, via: m.via ?? referenced.topic })) : [];
  };
  for (const index of tagger.order) {
    const topic = tagger.topics[index]!;
    const anyMatches = topic.any.flatMap(evidence);
    const groups = topic.all.map((group) => group.flatMap(evidence));
    const blockedBy = topic.not.flatMap(evidence);
    const missingGroups = groups.filter((g) => g.length === 0).length;
    const found = groups.length === 0 ? anyMatches : [...anyMatches, ...groups.flat()];
    const matches = found.length > 1 ? dedupe(found) : found;
    const tagged = inScope[index]! && (topic.any.length === 0 || anyMatches.length > 0) && missingGroups === 0 && blockedBy.length === 0 && matches.length > 0;
    verdicts[index] = { topic: topic.id, tagged, matches, blockedBy, missingGroups, inScope: inScope[index]! };
  }
  return verdicts;
}

function isInScope(topic: CompiledTopic, item: TaggableItem): boolean {
  if (topic.sources && !topic.sources.has(item.sourceId)) return false;
  if (!topic.languages) return true;
  const language = item.language?.toLowerCase();
  return language !== undefined && topic.languages.some((l) => language === l || language.startsWith(`${l}-`));
}

function dedupe(matches: TopicMatch[]): TopicMatch[] {
  const seen = new Set<string>();
  return matches.filter((m) => {
    const key = `${m.term}\u0000${m.via ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function fieldText(item: TaggableItem, field: TopicField): string {
  switch (field) {
    case 'title':
      return item.title;
    case 'summary':
      return item.summaryText;
    case 'content':
      return item.contentText;
    case 'categories':
      return item.categories.join('\n');
    case 'author':
      return item.author ?? '';
  }
}

/** One pass over the item's fields: the first place each term matches, by term id. */
function findTerms(tagger: Tagger, item: TaggableItem, inScope: boolean[]): Map<number, TopicMatch> {
  const hits = new Map<number, TopicMatch>();
  for (const field of TOPIC_FIELDS) {
    const bit = FIELD_BIT[field];
    if ((tagger.fieldMask & bit) === 0) continue;
    const text = fieldText(item, field);
    if (text === '') continue;
    const wants = (term: { id: number; topic: number }) =>
      !hits.has(term.id) && inScope[term.topic]! && (tagger.topics[term.topic]!.fieldMask & bit) !== 0;
    const reader = new WordReader(text);
    const tryTerms = (list: WordsTerm[] | undefined, start: number, end: number, word: string) => {
      for (const term of list ?? []) {
        if (!wants(term)) continue;
        const matchEnd = matchAt(term.words, reader, start, end, word);
        if (matchEnd !== undefined) hits.set(term.id, { term: term.source, field, matched: text.slice(start, matchEnd) });
      }
    };
    for (let from = 0; ; ) {
      const start = reader.next(from);
      if (start < 0) break;
      const end = reader.end;
      from = end;
      if (!tagger.starts.has(reader.firstTwo(start, end))) continue;
      const word = reader.word(start, end);
      if (word.length < MIN_STEMMED_LENGTH) tryTerms(tagger.byShortWord.get(word), start, end, word);
      if (word.length >= tagger.shortestForms) tryTerms(tagger.byStem.get(stem(word)), start, end, word);
      if (tagger.byPrefix.size > 0) tryTerms(tagger.byPrefix.get(word.slice(0, PREFIX_KEY_LENGTH)), start, end, word);
      if (tagger.byExactWord.size > 0) tryTerms(tagger.byExactWord.get(text.slice(start, end)), start, end, word);
    }
    for (const term of tagger.regexes) {
      if (!wants(term)) continue;
      const found = term.regex.exec(text);
      if (found) hits.set(term.id, { term: term.source, field, matched: found[0] });
    }
  }
  return hits;
}

/** Whether the term's words match the text's words from the word [start, end) on; returns where the match ends. */
function matchAt(words: WordPattern[], reader: WordReader, start: number, end: number, word: string): number | undefined {
  if (!wordMatches(words[0]!, word, reader.text, start, end)) return undefined;
  let wordEnd = end;
  for (let j = 1; j < words.length; j++) {
    const wordStart = reader.next(wordEnd);
    if (wordStart < 0) return undefined;
    wordEnd = reader.end;
    if (!wordMatches(words[j]!, reader.word(wordStart, wordEnd), reader.text, wordStart, wordEnd)) return undefined;
  }
  return wordEnd;
}

function wordMatches(pattern: WordPattern, word: string, text: string, start: number, end: number): boolean {
  switch (pattern.kind) {
    case 'forms':
      return word.length >= pattern.minLength && pattern.stems.has(stem(word));
    case 'word':
      return word === pattern.word;
    case 'exact':
      return text.slice(start, end) === pattern.word;
    case 'prefix':
      return word.startsWith(pattern.word);
  }
}
