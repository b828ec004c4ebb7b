// The syntax of a topic term, parsed once when the config loads: inflected words and phrases,
// exact words (=CSTO), prefixes (казахстан*), regular expressions (/…/i) and topic references (topic:id).
import { formStems, tokenize } from '../text/words.ts';

/** How one word of a term matches one word of the text. */
export type WordPattern =
  /**
   * Any inflected form (Snowball stems of the word's generated forms), in a text word of at least `minLength` letters:
   * a term's first word has 4+ (a shorter one matches only itself), and the words after it or joined to it by a
   * hyphen may be shorter, as may their forms (Алма-Ата, в Алма-Ате; Коллективных сил), since the rest of the term
   * keeps a short form from matching just any word.
   */
  | { kind: 'forms'; word: string; stems: Set<string>; minLength: number }
  /** The same folded word: other words of 1–3 letters (ООН, US), which stemming would only blur. */
  | { kind: 'word'; word: string }
  /** The same word, letter for letter and case for case. */
  | { kind: 'exact'; word: string }
  /** A folded word that starts with this. */
  | { kind: 'prefix'; word: string };

export type Term =
  | { kind: 'words'; source: string; words: WordPattern[] }
  | { kind: 'regex'; source: string; regex: RegExp }
  | { kind: 'topic'; source: string; topic: string };

/** A term's first word shorter than this matches only itself; see WordPattern. */
export const MIN_STEMMED_LENGTH = 4;
/** The fewest letters of a form of a word inside a term (сил of силы), unless the word itself is shorter. */
const MIN_INSIDE_LENGTH = 3;
const MIN_PREFIX_LENGTH = 3;
/** What joins the parts of a hyphenated name: a hyphen or one of its Unicode kin, and nothing else. */
const HYPHEN = /^[-\u2010\u2011\u2012\u2013]$/;
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
  // Whether a word is joined to the one before or after it by a hyphen (or a dash), as the parts of a name are.
  const hyphenated = (i: number) => (i > 0 && HYPHEN.test(body.slice(tokens[i - 1]!.end, tokens[i]!.start))) || (i < tokens.length - 1 && HYPHEN.test(body.slice(tokens[i]!.end, tokens[i + 1]!.start)));
  const words = tokens.map((token, i): WordPattern => {
    if (exact) return { kind: 'exact', word: body.slice(token.start, token.end) };
    if (prefix && i === tokens.length - 1) {
      if (token.word.length < MIN_PREFIX_LENGTH) throw new TermError(`"${source}": a prefix needs at least ${MIN_PREFIX_LENGTH} letters, or it matches far too many words`);
      return { kind: 'prefix', word: token.word };
    }
    const inside = i > 0 || hyphenated(i);
    if (token.word.length < MIN_STEMMED_LENGTH && !inside) return { kind: 'word', word: token.word };
    return { kind: 'forms', word: token.word, stems: formStems(token.word), minLength: inside ? Math.min(token.word.length, MIN_INSIDE_LENGTH) : MIN_STEMMED_LENGTH };
  });
  return { kind: 'words', source, words };
}

function compileRegex(pattern: string, flags: string): RegExp {
  if (/[^ism]/.test(flags)) throw new TermError(`/${pattern}/${flags}: only the flags i, s and m mean something here`);
  // Compiled on its own first: inside the word wrapper, "[unclosed" or "a)|(b" would swallow or escape the
  // wrapper and compile into a pattern that matches nearly anything.
  try {
    new RegExp(pattern, `${flags}u`);
  } catch (err) {
    throw new TermError(`/${pattern}/${flags} is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`);
  }
  return new RegExp(`(?<!${NOT_WORD})(?:${pattern})(?!${NOT_WORD})`, `${flags}u`);
}
