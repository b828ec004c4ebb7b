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

/** Whether the UTF-16 unit at i (with its pair, if it is a surrogate) is a letter, mark or digit. */
function isWordChar(text: string, code: number, i: number): boolean {
  // The fast path covers ASCII, Latin-1 and Latin Extended, and Cyrillic: almost every character of our sources.
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
  if (code >= 0x400 && code <= 0x4ff) return true;
  if (code >= 0xc0 && code <= 0x24f) return code !== 0xd7 && code !== 0xf7;
  if (code >= 0xd800 && code <= 0xdbff) return WORD_CHAR.test(text.slice(i, i + 2));
  if (code >= 0xdc00 && code <= 0xdfff) return i > 0 && WORD_CHAR.test(text.slice(i - 1, i + 1));
  return WORD_CHAR.test(text[i]!);
}

/** The words of a text: maximal runs of Unicode letters, marks and digits, folded. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // Folding the whole text at once is much cheaper than word by word; when lowercasing changes the
  // length (a rare letter such as İ) offsets would shift, so such texts fold word by word.
  const lower = text.toLowerCase();
  const folded = lower.length === text.length ? lower.replaceAll('ё', 'е') : undefined;
  const accented = folded !== undefined && LATIN_ACCENTED.test(folded);
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const inWord = i < text.length && isWordChar(text, text.charCodeAt(i), i);
    if (inWord) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      const word = folded === undefined || accented ? fold(text.slice(start, i)) : folded.slice(start, i);
      tokens.push({ word, start, end: i });
      start = -1;
    }
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
 * Every stem a form of this folded word can have. Snowball stems a name's forms inconsistently
 * (казахстан → "казахста" but казахстане → "казахстан"; астана → "аста" but астане → "астан"), so
 * comparing stems of the term and the text word misses forms. Instead the term's forms are
 * generated (its base with every noun and adjective ending) and stemmed with the same stemmer:
 * a text word is a form of the term when its stem is one of these.
 */
export function formStems(word: string): Set<string> {
  const cyrillic = CYRILLIC.test(word);
  const bases = [word];
  if (cyrillic) {
    for (const ending of RUSSIAN_DICTIONARY_ENDINGS) {
      if (word.endsWith(ending) && word.length - ending.length >= 3) bases.push(word.slice(0, -ending.length));
    }
  }
  // An ending that looks like a verb's (base + "ь" = "…ть") can make Snowball cut into the base
  // itself; a stem shorter than every base's own stem is such a cut, not a form of the word.
  const shortest = Math.min(...bases.map((base) => stem(base).length));
  const result = new Set<string>();
  for (const base of bases) {
    for (const ending of cyrillic ? RUSSIAN_ENDINGS : ENGLISH_ENDINGS) {
      const formStem = stem(base + ending);
      if (formStem.length >= shortest) result.add(formStem);
    }
  }
  return result;
}
