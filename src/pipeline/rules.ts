// The syntax of a topic term, parsed once when the config loads: inflected words and phrases,
// exact words (=CSTO), prefixes (казахстан*), regular expressions (/…/i) and topic references (topic:id).
import { formStems, tokenize } from '../text/words.ts';

/** How one word of a term matches one word of the text. */
export type WordPattern =
  /** Any inflected form (Snowball stems of the word's generated forms); words of 4+ letters. */
  | { kind: 'forms'; word: string; stems: Set<string> }
  /** The same folded word: words of 1–3 letters (ООН, US), which stemming would only blur. */
  | { kind: 'word'; word: string }
  /** The same word, letter for letter and case for case. */
  | { kind: 'exact'; word: string }
  /** A folded word that starts with this. */
  | { kind: 'prefix'; word: string };

export type Term =
  | { kind: 'words'; source: string; words: WordPattern[] }
  | { kind: 'regex'; source: string; regex: RegExp }
  | { kind: 'topic'; source: string; topic: string };

/** Words shorter than this match only themselves; see WordPattern. */
export const MIN_STEMMED_LENGTH = 4;
const MIN_PREFIX_LENGTH = 3;
const TOPIC_REF = /^topic:([a-z0-9][a-z0-9_-]*)$/;
const REGEX = /^\/(.+)\/([a-z]*)$/s;
// Letters, marks and digits on neither side: a regex term matches whole words, as every other term does.
const NOT_WORD = '[\\p{L}\\p{M}\\p{N}]';

export class TermError extends Error {}

/** The topic a `topic:id` term refers to; undefined for every other term. */
export function topicRef(source: string): string | undefined {
  return TOPIC_REF.exec(source.trim())?.[1];
}

export function parseTerm(source: string): Term {
  const text = source.trim();
  const ref = topicRef(text);
  if (ref) return { kind: 'topic', source, topic: ref };
  const regex = REGEX.exec(text);
  if (regex) return { kind: 'regex', source, regex: compileRegex(regex[1]!, regex[2]!) };
  const exact = text.startsWith('=');
  const prefix = !exact && text.endsWith('*');
  const body = exact ? text.slice(1) : prefix ? text.slice(0, -1) : text;
  const tokens = tokenize(body);
  if (tokens.length === 0) throw new TermError(`"${source}" has no letters or digits to match`);
  const words = tokens.map((token, i): WordPattern => {
    if (exact) return { kind: 'exact', word: body.slice(token.start, token.end) };
    if (prefix && i === tokens.length - 1) {
      if (token.word.length < MIN_PREFIX_LENGTH) throw new TermError(`"${source}": a prefix needs at least ${MIN_PREFIX_LENGTH} letters, or it matches far too many words`);
      return { kind: 'prefix', word: token.word };
    }
    if (token.word.length < MIN_STEMMED_LENGTH) return { kind: 'word', word: token.word };
    return { kind: 'forms', word: token.word, stems: formStems(token.word) };
  });
  return { kind: 'words', source, words };
}

function compileRegex(pattern: string, flags: string): RegExp {
  if (/[^ism]/.test(flags)) throw new TermError(`/${pattern}/${flags}: only the flags i, s and m mean something here`);
  try {
    return new RegExp(`(?<!${NOT_WORD})(?:${pattern})(?!${NOT_WORD})`, `${flags}u`);
  } catch (err) {
    throw new TermError(`/${pattern}/${flags} is not a valid regular expression: ${(err as Error).message}`);
  }
}
