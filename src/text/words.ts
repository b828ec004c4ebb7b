// Words of a text as every matching stage sees them: Unicode word tokens, case- and accent-folded
// (ё = е), and their Snowball stems (Russian for Cyrillic words, English otherwise).
import { stemmer as englishStemmer } from '@orama/stemmers/english';
import { stemmer as russianStemmer } from '@orama/stemmers/russian';

export interface Token {
  /** The folded word. */
  word: string;
  /** Offsets of the original word in the text. */
  start: number;
  end: number;
}

const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;
const CYRILLIC = /[\u0400-\u04ff]/;
const LATIN_ACCENTED = /[\u00c0-\u024f]/;
const LATIN_ACCENTS = /([a-z])[\u0300-\u036f]+/g;

/** Lowercase, ё → е, and accents dropped from Latin letters (é → e); Cyrillic й stays й. */
export function fold(word: string): string {
  const lower = word.toLowerCase().replaceAll('ё', 'е');
  return LATIN_ACCENTED.test(lower) ? lower.normalize('NFD').replace(LATIN_ACCENTS, '$1').normalize('NFC') : lower;
}

// Which UTF-16 units below U+0500 (ASCII, Latin-1, Latin Extended, Cyrillic: almost every character of
// our sources) are letters, marks or digits, looked up instead of tested with a regular expression.
const TABLE_SIZE = 0x500;
const WORD_TABLE = Uint8Array.from({ length: TABLE_SIZE }, (_, code) => (WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 0));

/** Whether the UTF-16 unit at i (U+0500 or above; with its pair, if it is a surrogate) is a letter, mark or digit. */
function isWordChar(text: string, code: number, i: number): boolean {
  if (code >= 0xd800 && code <= 0xdbff) return WORD_CHAR.test(text.slice(i, i + 2));
  if (code >= 0xdc00 && code <= 0xdfff) return i > 0 && WORD_CHAR.test(text.slice(i - 1, i + 1));
  return WORD_CHAR.test(text[i]!);
}

/**
 * A text read word by word without allocating for words nobody asks about: the tagger looks at the
 * first letters of every word (code) and takes the folded string (word) only of the few that might
 * begin a term. tokenize() reads every word through it.
 */
export class WordReader {
  readonly text: string;
  /** The end of the word next() found last. */
  end = 0;
  /** The whole text folded at once, when that keeps offsets and needs no per-word accent folding. */
  private readonly folded: string | undefined;

  constructor(text: string) {
    this.text = text;
    // Folding the whole text at once is much cheaper than word by word; when lowercasing changes the
    // length (a rare letter such as İ) offsets would shift, so such texts fold word by word.
    const lower = text.toLowerCase();
    const folded = lower.length !== text.length ? undefined : lower.includes('ё') ? lower.replaceAll('ё', 'е') : lower;
    this.folded = folded !== undefined && !LATIN_ACCENTED.test(folded) ? folded : undefined;
  }

  /** The start of the first word at or after offset `from` (its end is then in `end`), or -1. */
  next(from: number): number {
    const text = this.text;
    const length = text.length;
    let i = from;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code < TABLE_SIZE ? WORD_TABLE[code] === 1 : isWordChar(text, code, i)) break;
    }
    if (i >= length) return -1;
    const start = i;
    for (i++; i < length; i++) {
      const code = text.charCodeAt(i);
      if (!(code < TABLE_SIZE ? WORD_TABLE[code] === 1 : isWordChar(text, code, i))) break;
    }
    this.end = i;
    return start;
  }

  /** The whole text folded, when words are read from it by offset (undefined: word() folds each word itself). */
  get foldedText(): string | undefined {
    return this.folded;
  }

  /** The folded word between these offsets. */
  word(start: number, end: number): string {
    return this.folded === undefined ? fold(this.text.slice(start, end)) : this.folded.slice(start, end);
  }

  /** The first two folded letters of the word between these offsets, as one number (0 for a missing second letter). */
  firstTwo(start: number, end: number): number {
    if (this.folded === undefined) return firstTwo(this.word(start, end));
    return this.folded.charCodeAt(start) * 65_536 + (end - start > 1 ? this.folded.charCodeAt(start + 1) : 0);
  }
}

/** The first two letters of a folded word as one number (0 for a missing second letter). */
export function firstTwo(word: string): number {
  return word.charCodeAt(0) * 65_536 + (word.length > 1 ? word.charCodeAt(1) : 0);
}

/** The words of a text: maximal runs of Unicode letters, marks and digits, folded. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const reader = new WordReader(text);
  for (let start = reader.next(0); start >= 0; start = reader.next(reader.end)) {
    tokens.push({ word: reader.word(start, reader.end), start, end: reader.end });
  }
  return tokens;
}

const stems = new Map<string, string>();

/** The Snowball stem of a folded word; cached, since news vocabulary repeats. */
export function stem(word: string): string {
  let result = stems.get(word);
  if (result === undefined) {
    result = CYRILLIC.test(word) ? russianStemmer(word) : englishStemmer(word);
    if (stems.size > 200_000) stems.clear();
    stems.set(word, result);
  }
  return result;
}

// Russian noun and adjective endings of every case and number, and the endings a dictionary form
// (the nominative) can carry. Used to build the inflected forms of a term word.
const RUSSIAN_ENDINGS = [
  '', 'а', 'я', 'о', 'е', 'ь', 'й', 'ы', 'и', 'у', 'ю', 'ом', 'ем', 'ой', 'ей', 'ою', 'ею', 'ью', 'ам', 'ям', 'ами', 'ями',
  'ах', 'ях', 'ов', 'ев', 'ий', 'ия', 'ие', 'ию', 'ии', 'ием', 'иям', 'иями', 'иях', 'ый', 'ая', 'яя', 'ое', 'ее', 'ые',
  'ого', 'его', 'ому', 'ему', 'ым', 'им', 'ую', 'юю', 'ых', 'их', 'ыми', 'ими',
];
const RUSSIAN_DICTIONARY_ENDINGS = ['ия', 'ие', 'ий', 'ый', 'ой', 'ая', 'яя', 'ое', 'ее', 'ые', 'а', 'я', 'о', 'е', 'ь', 'й', 'ы', 'и'];
const ENGLISH_ENDINGS = ['', 's', 'es'];
/**
 * The fewest letters a base keeps when a dictionary ending is cut off: three, and two of a three-letter word (the
 * short part of a name: ата → ат-е, ат-у, ат-ой, в Алма-Ате), so that a longer word keeps its root (Азия, not аз-).
 */
const minBase = (word: string) => (word.length <= 3 ? 2 : 3);

/**
 * Every stem a form of this folded word can have. Snowball stems a name's forms inconsistently
 * (казахстан → "казахста" but казахстане → "казахстан"; астана → "аста" but астане → "астан"), so
 * comparing stems of the term and the text word misses forms. Instead the term's forms are
 * generated (its base with every noun and adjective ending) and stemmed with the same stemmer:
 * a text word is a form of the term when its stem is one of these.
 */
export function formStems(word: string): Set<string> {
  return new Set(wordForms(word).map(stem));
}

/**
 * The forms of this folded word whose stems formStems gives: its bases (the word less a dictionary ending) with every
 * noun and adjective ending, for an engine that stems them with its own stemmer (PostgreSQL's text search).
 */
export function wordForms(word: string): string[] {
  const cyrillic = CYRILLIC.test(word);
  const bases = [word];
  if (cyrillic) {
    for (const ending of RUSSIAN_DICTIONARY_ENDINGS) {
      if (word.endsWith(ending) && word.length - ending.length >= minBase(word)) bases.push(word.slice(0, -ending.length));
    }
  }
  // An ending that looks like a verb's (base + "ь" = "…ть") can make Snowball cut into the base
  // itself; a stem shorter than every base's own stem is such a cut, not a form of the word.
  const shortest = Math.min(...bases.map((base) => stem(base).length));
  const result = new Set<string>();
  for (const base of bases) {
    for (const ending of cyrillic ? RUSSIAN_ENDINGS : ENGLISH_ENDINGS) {
      const form = base + ending;
      if (stem(form).length >= shortest) result.add(form);
    }
  }
  return [...result];
}
