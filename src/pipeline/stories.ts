// Same story, other outlet: a report's story print (the stemmed content words of its title and lede)
// and the test whether two prints tell the same story. MinHash bands over the words let the store
// find candidates through an index instead of comparing a report with every other one.
import type { Item } from '../item.ts';
import { stem, WordReader } from './words.ts';

export interface StoryPrint {
  /** Sorted, distinct 32-bit hashes of the stems of the title's and the lede's content words. */
  words: Uint32Array;
  /** Index keys: two reports of one story share at least one of them with high probability. */
  bands: number[];
}

/** How many words of the body after the title identify a story: its lede, so that long texts compare like short ones. */
export const LEDE_WORDS = 80;
/** Below this many shared words two reports are too short to call the same story. */
export const MIN_SHARED_WORDS = 5;
/** MinHash bands of one row each: a report becomes a candidate when any of its BANDS minimum word hashes equals one of ours. */
export const BANDS = 8;

// Function words and the reposters' attribution lines ("Based on materials from TASS", «По материалам ТАСС»)
// say nothing about which story a text tells; leaving them in makes every repost of one site look alike.
const STOP_WORDS = new Set(
  `a about after against all also an and any are as at be because been before being between both but by can could did do does
  during each few for from had has have having he her here hers him his how i if in into is it its itself just me more most my
  no nor not now of off on once only or other our out over own same she should so some such than that the their them then there
  these they this those through to too under until up very was we were what when where which while who whom why will with would
  you your said says say told according reported report based materials material tass earlier later also
  а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до его ее ей ему если есть еще
  же за здесь и из или им их к как ко когда который которая которые которых ли либо между меня мне может мы на над надо наш не
  него нее нет ни них но ну о об однако он она они оно от очень по под после при про раз с со так также такой там те тем то того
  тоже той только том ту ты у уже хотя чего чей чем что чтобы чье эта эти это этого этой этом этот я
  заявил заявила заявили сообщил сообщила сообщили сообщает сказал сказала отметил отметила говорится словам материалам тасс ранее`
    .split(/\s+/)
    .filter(Boolean),
);

/** The print of a report: its title's content words and the first LEDE_WORDS more from its summary and content. */
export function storyPrint(item: Pick<Item, 'title' | 'summaryText' | 'contentText'>): StoryPrint {
  const hashes = new Set<number>();
  const add = (text: string, limit: number) => {
    const reader = new WordReader(text);
    for (let start = reader.next(0); start >= 0 && hashes.size < limit; start = reader.next(reader.end)) {
      const hash = wordHash(reader.word(start, reader.end));
      if (hash !== STOP) hashes.add(hash);
    }
  };
  add(item.title, Infinity);
  const limit = hashes.size + LEDE_WORDS;
  add(item.summaryText, limit);
  add(item.contentText, limit);
  const words = Uint32Array.from(hashes).sort();
  return { words, bands: storyBands(words) };
}

/** What wordHash gives a stop word (hashes are unsigned, so it is none of them). */
const STOP = -1;
const wordHashes = new Map<string, number>();

/** The hash of a folded word's stem, or STOP; cached, since news vocabulary repeats (one lookup instead of three). */
function wordHash(word: string): number {
  let hash = wordHashes.get(word);
  if (hash === undefined) {
    hash = STOP_WORDS.has(word) ? STOP : fnv1a(stem(word));
    if (wordHashes.size > 200_000) wordHashes.clear();
    wordHashes.set(word, hash);
  }
  return hash;
}

/**
 * How much of the shorter report the longer one contains (0…1): the share of the shorter one's words that both use.
 * Containment rather than Jaccard, because a feed often gives one sentence of a story that a repost gives whole.
 */
export function resemblance(a: Uint32Array, b: Uint32Array): number {
  const shared = sharedWords(a, b);
  return shared < MIN_SHARED_WORDS ? 0 : shared / Math.min(a.length, b.length);
}

/** The decision the store makes: the reports meet in a band (so the index can find one from the other) and resemble enough. */
export function sameStory(a: StoryPrint, b: StoryPrint, threshold: number): boolean {
  return a.bands.some((band) => b.bands.includes(band)) && resemblance(a.words, b.words) >= threshold;
}

/**
 * The candidate that tells the same story best, if any reaches the threshold and may take the report (`eligible`, asked
 * only of those that reach it, best first). Among equal scores the earlier candidate wins.
 */
export function bestMatch<T extends { words: Uint32Array }>(
  print: StoryPrint,
  candidates: T[],
  threshold: number,
  eligible: (candidate: T) => boolean = () => true,
): T | undefined {
  return candidates
    .map((candidate) => ({ candidate, score: resemblance(print.words, candidate.words) }))
    .filter(({ score }) => score >= threshold)
    .sort((a, b) => b.score - a.score)
    .find(({ candidate }) => eligible(candidate))?.candidate;
}

function sharedWords(a: Uint32Array, b: Uint32Array): number {
  let shared = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      shared++;
      i++;
      j++;
    }
  }
  return shared;
}

// One seed per band; each band's key is the smallest word hash under that seed's mixing, tagged with the band number
// so that equal minima of different bands never meet.
const SEEDS = Array.from({ length: BANDS }, (_, i) => mix32(0x9e3779b9 * (i + 1)));

/** The band keys of a print's words (the store derives them again from the words it keeps). */
export function storyBands(words: Uint32Array): number[] {
  if (words.length === 0) return [];
  return SEEDS.map((seed, band) => {
    let min = 0xffffffff;
    for (const word of words) min = Math.min(min, mix32(word ^ seed));
    return band * 2 ** 32 + min;
  });
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The MurmurHash3 finalizer: a cheap bijection of 32-bit integers that scatters nearby values. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
