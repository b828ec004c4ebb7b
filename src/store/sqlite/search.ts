// Full-text search and paging conditions for item queries. A parsed search (text/search-query.ts) becomes an FTS5
// expression built only from quoted word tokens, column filters and operators chosen here, so nothing a person types
// reaches SQLite as syntax. Words are looked for by their forms in the stemmed columns, phrases and prefixes in the
// exact ones (search-index.ts says what each column holds).
import type { SearchQuery, SearchTerm } from '../../text/search-query.ts';
import { formStems, stem } from '../../text/words.ts';
import type { SearchFilters } from '../store.ts';

/** What the attached index can answer: word forms (its stemmed columns) or, an index of the first format, exact words only. */
export interface IndexColumns {
  forms: boolean;
}

/** Phrases one word term may stand for (every combination of its words' form stems); beyond this, each word's own stem. */
const MAX_ALTERNATIVES = 64;
/** bm25 weights of title, body, title forms, body forms: a word in the title counts three times. */
export const RANK_WEIGHTS = '3.0, 1.0, 3.0, 1.0';
/** The same for an index of the first format (title, body). */
export const EXACT_RANK_WEIGHTS = '3.0, 1.0';

const quote = (words: string[]) => `"${words.join(' ').replaceAll('"', '""')}"`;

/** The FTS5 MATCH expression of a parsed search. */
export function ftsExpression(query: SearchQuery, columns: IndexColumns): string {
  const group = (terms: SearchTerm[]) => (terms.length === 1 ? termExpression(terms[0]!, columns) : `(${terms.map((t) => termExpression(t, columns)).join(' OR ')})`);
  let expression = query.all.map(group).join(' AND ');
  for (const term of query.none) expression = `(${expression}) NOT ${termExpression(term, columns)}`;
  return expression;
}

function termExpression(term: SearchTerm, columns: IndexColumns): string {
  if (term.kind === 'phrase' || !columns.forms) return `({title body} : ${quote(term.words)})`;
  if (term.kind === 'prefix') return `({title body} : ${quote(term.words)}*)`;
  return `({title_forms body_forms} : (${formPhrases(term.words).map(quote).join(' OR ')}))`;
}

/** The stem sequences the forms of these words (next to each other) can have in the stemmed columns. */
function formPhrases(words: string[]): string[][] {
  let phrases: string[][] = [[]];
  for (const word of words) {
    const stems = [...formStems(word)];
    const choices = phrases.length * stems.length > MAX_ALTERNATIVES ? [stem(word)] : stems;
    phrases = phrases.flatMap((phrase) => choices.map((s) => [...phrase, s]));
  }
  return phrases;
}

/** The SQL conditions (on items aliased "i") for paging by date, a start date and a search that filters (is not ranked). */
export function searchConditions(filters: SearchFilters, columns: IndexColumns): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filters.before && 'publishedAt' in filters.before) {
    where.push('(i.published_at, i.id) < (?, ?)');
    params.push(filters.before.publishedAt, filters.before.id);
  }
  if (filters.since !== undefined) {
    where.push('i.published_at >= ?');
    params.push(filters.since);
  }
  if (filters.search) {
    where.push('i.id IN (SELECT rowid FROM search.items_fts WHERE items_fts MATCH ?)');
    params.push(ftsExpression(filters.search, columns));
  }
  return { where, params };
}
