// The words of a search marked in a result's text. Simple on purpose: a text word is marked when it folds to
// a query word, is another form of it (the same stems as topic terms match by), or starts with a query word written as a prefix (word*).
// Words the query excludes (-word, NOT word) and its operators are not marked.
import { escapeHtml } from '../../text/html.ts';
import { formStems, stem, tokenize } from '../../text/words.ts';

export interface QueryWord {
  word: string;
  prefix: boolean;
}

const OPERATORS = new Set(['AND', 'OR', 'NOT']);

/** The words of a search text that its results contain. */
export function queryWords(text: string): QueryWord[] {
  const words: QueryWord[] = [];
  let excludeNext = false;
  for (const match of text.matchAll(/(-?)"([^"]*)"?|(-?)([^\s"]+)/g)) {
    const raw = match[2] ?? match[4] ?? '';
    if (match[2] === undefined && OPERATORS.has(raw)) {
      excludeNext = raw === 'NOT';
      continue;
    }
    const excluded = excludeNext || (match[1] ?? match[3]) === '-';
    excludeNext = false;
    if (excluded) continue;
    const tokens = tokenize(raw);
    tokens.forEach((t, i) => words.push({ word: t.word, prefix: match[4] !== undefined && i === tokens.length - 1 && raw.endsWith('*') }));
  }
  return words;
}

/** The text as HTML, each matching word in <mark>. */
export function highlight(text: string, words: QueryWord[]): string {
  if (words.length === 0) return escapeHtml(text);
  // The stems of every form of each query word: Snowball alone stems a name's forms unevenly (астана, астане).
  const stems = new Set(words.flatMap((w) => [...formStems(w.word)]));
  const exact = new Set(words.map((w) => w.word));
  const prefixes = words.filter((w) => w.prefix).map((w) => w.word);
  let html = '';
  let at = 0;
  for (const token of tokenize(text)) {
    const { word } = token;
    if (!(exact.has(word) || stems.has(stem(word)) || prefixes.some((p) => word.startsWith(p)))) continue;
    html += `${escapeHtml(text.slice(at, token.start))}<mark>${escapeHtml(text.slice(token.start, token.end))}</mark>`;
    at = token.end;
  }
  return html + escapeHtml(text.slice(at));
}
