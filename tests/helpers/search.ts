// A search text as the store takes it: parsed, as /search.atom parses q.
import { parseSearch, type SearchQuery } from '../../src/text/search-query.ts';

export function searchFor(text: string): SearchQuery {
  const parsed = parseSearch(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.message}`);
  return parsed.query;
}
