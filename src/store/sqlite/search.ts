// Full-text search and paging conditions for item queries. Search text from a URL becomes an FTS5
// expression built only from quoted word tokens, so no FTS syntax a user types can reach SQLite.
import { tokenize } from '../../text/words.ts';
import type { SearchFilters } from '../store.ts';

/** More terms than this is not a search anyone types; it bounds the work of one query. */
export const MAX_TERMS = 16;

/**
 * The FTS5 MATCH expression for a person's search text: every word must appear; "quoted words" must
 * appear together; a word ending in * matches words starting with it. Undefined when the text has no
 * word to search for. Each token is a quoted FTS5 string of letters and digits only.
 */
export function ftsExpression(text: string): string | undefined {
  const terms: string[] = [];
  // Odd quotes are treated as if closed at the end of the text.
  for (const match of text.matchAll(/"([^"]*)"?|([^\s"]+)/g)) {
    const words = tokenize(match[1] ?? match[2] ?? '').map((t) => t.word);
    if (words.length === 0) continue;
    const quoted = `"${words.join(' ').replaceAll('"', '""')}"`;
    const prefix = match[2] !== undefined && words.length === 1 && /[\p{L}\p{M}\p{N}]\*$/u.test(match[2]);
    terms.push(prefix ? `${quoted}*` : quoted);
  }
  return terms.length ? terms.slice(0, MAX_TERMS).join(' ') : undefined;
}

/** The SQL conditions (on items aliased "i") for paging, a start date and search text. */
export function searchConditions(filters: SearchFilters): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filters.before) {
    where.push('(i.published_at, i.id) < (?, ?)');
    params.push(filters.before.publishedAt, filters.before.id);
  }
  if (filters.since !== undefined) {
    where.push('i.published_at >= ?');
    params.push(filters.since);
  }
  const expression = filters.text === undefined ? undefined : ftsExpression(filters.text);
  if (filters.text !== undefined) {
    // Text without a single word matches nothing, rather than everything.
    where.push(expression ? 'i.id IN (SELECT rowid FROM search.items_fts WHERE items_fts MATCH ?)' : '0');
    if (expression) params.push(expression);
  }
  return { where, params };
}
