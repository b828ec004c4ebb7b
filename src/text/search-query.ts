// A person's search text read as a query: words (every form of each), "quoted phrases" (exact), prefix* words, OR
// between alternatives, -word or NOT word to exclude. Text that cannot be read is an error value saying why (a 400),
// never an exception; what this returns is plain data that the store (store/sqlite/search.ts) turns into an FTS5 expression.
import { tokenize } from './words.ts';

/** Longest search text accepted: longer is not a search, and it bounds the work of one query. */
export const MAX_QUERY_LENGTH = 256;
/** More words than this is not a search anyone types; it bounds the work of one query. */
export const MAX_QUERY_WORDS = 16;
/** Letters a prefix needs: a shorter one stands for a large part of the vocabulary and reads most of the index. */
export const MIN_PREFIX_LENGTH = 3;

/**
 * One thing to look for, as folded words. `forms`: any form of each word (a hyphenated name's parts next to each
 * other: Нур-Султан finds "Нур-Султане"); `phrase`: these words exactly, in this order; `prefix`: the last word is
 * the beginning of a word.
 */
export interface SearchTerm {
  kind: 'forms' | 'phrase' | 'prefix';
  words: string[];
}

/** Items match when, for every group of `all`, one of its terms matches, and no term of `none` does. */
export interface SearchQuery {
  all: SearchTerm[][];
  none: SearchTerm[];
}

export type ParsedSearch = { ok: true; query: SearchQuery } | { ok: false; message: string };

type Piece = { type: 'term'; term: SearchTerm; text: string; negated: boolean } | { type: 'or' } | { type: 'not' };

// Tab and line breaks are spaces (a query pasted from a text field); other control characters are not text.
const CONTROL = /(?![\t\n\r])\p{Cc}/u;
const WORD_END = /[\p{L}\p{M}\p{N}]$/u;

/** Reads a search text; the reason when it cannot be read. */
export function parseSearch(text: string): ParsedSearch {
  const fail = (message: string): ParsedSearch => ({ ok: false, message });
  if (text.length > MAX_QUERY_LENGTH) return fail(`the search is longer than ${MAX_QUERY_LENGTH} characters`);
  if (CONTROL.test(text)) return fail('the search contains a control character');
  const pieces: Piece[] = [];
  for (const match of text.matchAll(/(-?)"([^"]*)("?)|[^\s"]+/g)) {
    if (match[2] !== undefined) {
      if (match[3] === '') return fail(`the quote in ${clip(match[0])} is not closed`);
      const words = tokenize(match[2]).map((t) => t.word);
      if (words.length === 0) return fail(`the quotes ${clip(match[0])} hold no word`);
      pieces.push({ type: 'term', term: { kind: 'phrase', words }, text: match[0], negated: match[1] === '-' });
      continue;
    }
    const chunk = match[0];
    if (chunk === 'OR') pieces.push({ type: 'or' });
    else if (chunk === 'NOT') pieces.push({ type: 'not' });
    else {
      const negated = chunk.length > 1 && chunk.startsWith('-');
      const body = negated ? chunk.slice(1) : chunk;
      const prefix = body.endsWith('*');
      if (body.slice(0, prefix ? -1 : undefined).includes('*') || (prefix && !WORD_END.test(body.slice(0, -1)))) {
        return fail(`${clip(chunk)}: a * goes right after the beginning of a word, as in kaz*`);
      }
      const words = tokenize(body).map((t) => t.word);
      // Punctuation alone (a dash between words, an ampersand) is not a term.
      if (words.length === 0) continue;
      if (prefix && words.at(-1)!.length < MIN_PREFIX_LENGTH) return fail(`${clip(chunk)}: a prefix needs at least ${MIN_PREFIX_LENGTH} letters before the *`);
      pieces.push({ type: 'term', term: { kind: prefix ? 'prefix' : 'forms', words }, text: chunk, negated });
    }
  }
  return assemble(pieces);
}

/** The pieces as groups of alternatives (OR binds its neighbours), exclusions apart. */
function assemble(pieces: Piece[]): ParsedSearch {
  const fail = (message: string): ParsedSearch => ({ ok: false, message });
  const all: SearchTerm[][] = [];
  const none: SearchTerm[] = [];
  let words = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece.type === 'or') return fail('OR needs a word or a "phrase" on each side, as in Astana OR Almaty');
    if (piece.type === 'not') {
      const next = pieces[i + 1];
      if (next?.type !== 'term' || next.negated) return fail('NOT needs a word or a "phrase" after it, as in Kazakhstan NOT Kazan');
      none.push(next.term);
      words += next.term.words.length;
      i++;
      continue;
    }
    if (piece.negated) {
      none.push(piece.term);
      words += piece.term.words.length;
      continue;
    }
    const group = [piece.term];
    words += piece.term.words.length;
    while (pieces[i + 1]?.type === 'or') {
      const next = pieces[i + 2];
      if (next?.type !== 'term') return fail('OR needs a word or a "phrase" on each side, as in Astana OR Almaty');
      if (next.negated) return fail(`${clip(next.text)}: an excluded word cannot be one side of OR`);
      group.push(next.term);
      words += next.term.words.length;
      i += 2;
    }
    all.push(group);
  }
  if (words > MAX_QUERY_WORDS) return fail(`the search has ${words} words; at most ${MAX_QUERY_WORDS} are looked for`);
  if (all.length === 0) return fail(none.length ? 'the search only excludes words; give a word to look for too' : 'the search has no word to look for');
  return { ok: true, query: { all, none } };
}

/** Part of the search quoted back in a message, cut short. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
