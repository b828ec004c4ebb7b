// Same story, other outlet: a report's story print (the stemmed content words of its title and lede)
// and the test whether two prints tell the same story. MinHash bands over the words let the store
// find candidates through an index instead of comparing a report with every other one.
import type { Item } from '../item.ts';
import { stem, WordReader } from './words.ts';

export interface StoryPrint {
  /** Sorted, distinct 32-bit hashes of the stems of the title's and the lede's content words. */
  words: Uint32Array;
  /**
   * Index keys, one path per band: the band's key first (two reports of one story share at least one band's with high
   * probability), then keys of the band's next smallest words, for buckets that a common word has crowded.
   */
  bands: number[][];
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
  const hashes = printWords.start();
  const add = (text: string, limit: number) => {
    const reader = new WordReader(text);
    const folded = reader.foldedText;
    for (let start = reader.next(0); start >= 0 && hashes.size < limit; start = reader.next(reader.end)) {
      // Read by offset from the text folded whole, or from the word folded alone (the same characters either way).
      const hash = folded === undefined ? wordHashOf(reader.word(start, reader.end)) : wordHashAt(folded, start, reader.end);
      if (hash !== STOP) hashes.add(hash);
    }
  };
  add(item.title, Infinity);
  const limit = hashes.size + LEDE_WORDS;
  add(item.summaryText, limit);
  add(item.contentText, limit);
  const words = hashes.sorted();
  return { words, bands: storyBands(words) };
}

/** What wordHashAt gives a stop word (hashes are unsigned, so it is none of them). */
const STOP = -1;

/**
 * The hash of a folded word's stem, or STOP, cached (news vocabulary repeats): from the folded word's characters to the
 * answer, without making the word a string: open addressing on two independent 32-bit hashes of the characters (a wrong answer needs both to collide,
 * about one chance in 10^9 over the whole vocabulary), emptied when 60 % full. An entry is four numbers side by side
 * (the two keys, the answer, whether it is taken and a stop word), so that a lookup costs one cache miss, not four. A
 * Map keyed by the word cost a new string and two or three cache misses for each word of every print (BENCHMARKS.md).
 */
const CACHE_SIZE = 2 ** 18;
const cache = new Uint32Array(CACHE_SIZE * 4);
const KEY_A = 0;
const KEY_B = 1;
const HASH = 2;
/** 0: free; TAKEN; TAKEN | STOP_WORD. */
const STATE = 3;
const TAKEN = 1;
const STOP_WORD = 2;
let cacheCount = 0;

/** The hash of a folded word's stem, or STOP. */
const wordHashOf = (word: string) => wordHashAt(word, 0, word.length);

/** The hash of the stem of the folded word text[start, end), or STOP, through the cache. */
function wordHashAt(text: string, start: number, end: number): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ (end - start);
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a >>>= 0;
  b >>>= 0;
  let at = (a & (CACHE_SIZE - 1)) * 4;
  for (; cache[at + STATE] !== 0; at = (at + 4) & (CACHE_SIZE * 4 - 1)) {
    if (cache[at + KEY_A] === a && cache[at + KEY_B] === b) return cache[at + STATE]! & STOP_WORD ? STOP : cache[at + HASH]!;
  }
  const word = text.slice(start, end);
  const hash = STOP_WORDS.has(word) ? STOP : fnv1a(stem(word));
  if (cacheCount >= CACHE_SIZE * 0.6) {
    cache.fill(0);
    cacheCount = 0;
    at = (a & (CACHE_SIZE - 1)) * 4;
  }
  cache[at + KEY_A] = a;
  cache[at + KEY_B] = b;
  cache[at + HASH] = hash === STOP ? 0 : hash;
  cache[at + STATE] = hash === STOP ? TAKEN | STOP_WORD : TAKEN;
  cacheCount++;
  return hash;
}

/**
 * The distinct word hashes of the print being made: a set in typed arrays (word hashes above 2^30 are no small integers,
 * and a Set of them allocated a number for each), reused from one print to the next.
 */
class PrintWords {
  private keys = new Uint32Array(512);
  /** Which print last took a position: positions of earlier prints count as free, so a new print clears nothing. */
  private taken = new Uint32Array(512);
  private print = 0;
  private list = new Uint32Array(256);
  size = 0;

  start(): this {
    if (++this.print === 0x1_0000_0000) {
      this.taken.fill(0);
      this.print = 1;
    }
    this.size = 0;
    return this;
  }

  add(hash: number): void {
    const mask = this.keys.length - 1;
    let at = Math.imul(hash, 0x9e3779b1) >>> 0 & mask;
    for (; this.taken[at] === this.print; at = (at + 1) & mask) if (this.keys[at] === hash) return;
    this.taken[at] = this.print;
    this.keys[at] = hash;
    this.list[this.size++] = hash;
    if (this.size * 2 > this.list.length) this.grow();
  }

  sorted(): Uint32Array {
    return this.list.slice(0, this.size).sort();
  }

  private grow(): void {
    const list = this.list.slice(0, this.size);
    this.keys = new Uint32Array(this.keys.length * 2);
    this.taken = new Uint32Array(this.taken.length * 2);
    this.list = new Uint32Array(this.list.length * 2);
    this.size = 0;
    for (const hash of list) this.add(hash);
  }
}

const printWords = new PrintWords();

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
  return a.bands.some((path, band) => path[0] === b.bands[band]?.[0]) && resemblance(a.words, b.words) >= threshold;
}

/**
 * The candidates that tell the same story, best first: those whose resemblance reaches the threshold. Among equal scores
 * the earlier candidate comes first. The first one whose story may take the report is its match (the store knows).
 */
export function sameStoryCandidates<T extends { words: Uint32Array }>(print: StoryPrint, candidates: T[], threshold: number): T[] {
  return candidates
    .map((candidate) => ({ candidate, score: resemblance(print.words, candidate.words) }))
    .filter(({ score }) => score >= threshold)
    .sort((a, b) => b.score - a.score)
    .map(({ candidate }) => candidate);
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
// so that equal minima of different bands never meet. The deeper keys of a band's path stand for its smallest two,
// three, four words (tagged with band and depth): a bucket that a common word crowds (its word is the smallest of many
// prints) passes the reports that follow to the bucket of the next word, so that no bucket grows past what a lookup
// reads, and a repost that kept its original's smallest words finds it there.
const SEEDS = Array.from({ length: BANDS }, (_, i) => mix32(0x9e3779b9 * (i + 1)));

/** The band paths of a print's words (the store derives them again from the words it keeps). */
export function storyBands(words: Uint32Array): number[][] {
  if (words.length === 0) return [];
  return SEEDS.map((seed, band) => {
    // The four smallest mixed hashes, in order, in locals (a typed array for them cost three times as much).
    let m0 = NONE;
    let m1 = NONE;
    let m2 = NONE;
    let m3 = NONE;
    for (let i = 0; i < words.length; i++) {
      const h = mix32(words[i]! ^ seed);
      if (h >= m3) continue;
      m3 = h;
      if (m3 < m2) {
        m3 = m2;
        m2 = h;
        if (m2 < m1) {
          m2 = m1;
          m1 = h;
          if (m1 < m0) {
            m1 = m0;
            m0 = h;
          }
        }
      }
    }
    // Each deeper key stands for the smallest words so far: the one before it mixed with the next word.
    const k1 = mix32(m0 ^ mix32(m1 + 1));
    const k2 = mix32(k1 ^ mix32(m2 + 2));
    const k3 = mix32(k2 ^ mix32(m3 + 3));
    const path = [bandKey(0, band, m0), bandKey(1, band, k1), bandKey(2, band, k2), bandKey(3, band, k3)];
    // A print of fewer than four words has as many keys.
    if (words.length < path.length) path.length = words.length;
    return path;
  });
}

/**
 * A key of a band's path: its hash mixed with a tag of its band and depth (so that equal hashes of different bands or
 * depths do not meet), cut to 30 bits. Keys of that size are small integers to V8, which a Map hashes and compares in
 * place; the keys of 37 bits this made before (band and depth above a 32-bit hash) were heap numbers, and their lookups
 * took most of a band index lookup's time (bench/band-index.ts). Two keys meeting by chance (about a hundred pairs among
 * half a million keys) share a bucket: a lookup reads a little more, and nothing is lost.
 */
function bandKey(depth: number, band: number, hash: number): number {
  return mix32(hash ^ KEY_TAGS[depth * BANDS + band]!) & 0x3fff_ffff;
}

const KEY_TAGS = Array.from({ length: 4 * BANDS }, (_, i) => mix32(0x85eb_ca6b * (i + 1)));

/** Above every 32-bit hash: no word yet. */
const NONE = 2 ** 32;

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
