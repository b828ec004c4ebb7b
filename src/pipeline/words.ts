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

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const CYRILLIC = /[\u0400-\u04ff]/;
const LATIN_ACCENTS = /([a-z])[\u0300-\u036f]+/g;

/** Lowercase, ё → е, and accents dropped from Latin letters (é → e); Cyrillic й stays й. */
export function fold(word: string): string {
  const lower = word.toLowerCase().replaceAll('ё', 'е');
  return /[\u00c0-\u024f]/.test(lower) ? lower.normalize('NFD').replace(LATIN_ACCENTS, '$1').normalize('NFC') : lower;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const match of text.matchAll(WORD)) tokens.push({ word: fold(match[0]), start: match.index, end: match.index + match[0].length });
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
