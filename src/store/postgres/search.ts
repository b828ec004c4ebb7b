// Full-text search on PostgreSQL: a parsed search (text/search-query.ts) as a tsquery over an item's words
// (newsloom_words, migrations.ts): stemmed by its language's configuration (russian for ru…, english for en…, simple
// otherwise) and, after them, as they are (simple). They are kept in item_search, written after the commit that stored
// the item (search-indexer.ts); an item still queued for it has its words computed by the search itself. Each term's text is passed as a
// parameter to to_tsquery, built here only from quoted words and the operators chosen here, so nothing a person types
// reaches PostgreSQL as syntax. A word is looked for in all its forms: they are generated (text/words.ts, as the
// tagger does, since Snowball stems a name's forms unevenly) and each form is stemmed by PostgreSQL's configurations.
import type { SearchQuery, SearchTerm } from '../../text/search-query.ts';
import { wordForms } from '../../text/words.ts';

/** Numbered parameters of one statement ($1, $2…); a value added once can be referred to again by its number. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** An item's words for search (its row aliased `alias`), as item_search keeps them: newsloom_words over its text. */
export const itemWords = (alias: string) => `newsloom_words(${alias}.language, ${alias}.title, ${alias}.summary_text || ' ' || ${alias}.content_text)`;

/**
 * The items a tsquery (an SQL expression) matches, as a subquery of (id, words): the indexed ones through the GIN index
 * of item_search, and those queued to be indexed (new or edited since), whose words are computed here. An item is in one
 * of the two: a queued item's words in item_search, if any, are those before its edit.
 */
export function matchingItems(tsquery: string): string {
  return `(SELECT w.item_id AS id, w.search AS words FROM item_search w
      WHERE w.search @@ ${tsquery} AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.item_id = w.item_id)
    UNION ALL
    SELECT q.id, q.words FROM (
      SELECT p.item_id AS id, ${itemWords('x')} AS words
      FROM search_pending p JOIN items x ON x.id = p.item_id OFFSET 0
    ) q WHERE q.words @@ ${tsquery})`;
}

/** A word as a tsquery operand: quoted, so that no character of it is an operator. */
const lexeme = (word: string) => `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/** Forms of one word beyond which only the word itself is looked for (a word of a long phrase-like term). */
const MAX_FORMS = 512;

/** The tsquery of a search, as an SQL expression whose parameters are added to `params`. */
export function tsqueryExpression(query: SearchQuery, params: Params): string {
  const group = (terms: SearchTerm[]) => `(${terms.map((t) => termExpression(t, params)).join(' || ')})`;
  let expression = query.all.map(group).join(' && ');
  for (const term of query.none) expression = `(${expression}) && !!${termExpression(term, params)}`;
  return `(${expression})`;
}

function termExpression(term: SearchTerm, params: Params): string {
  if (term.kind === 'phrase') return `to_tsquery('simple', ${params.add(term.words.map(lexeme).join(' <-> '))})`;
  if (term.kind === 'prefix') {
    const words = term.words.map(lexeme);
    words[words.length - 1] += ':*';
    return `to_tsquery('simple', ${params.add(words.join(' <-> '))})`;
  }
  // Each word as the alternatives of its forms, next to each other (a hyphenated name's parts), stemmed by each
  // configuration an item can have been indexed with; simple finds the forms as they are.
  const forms = term.words.map((word) => {
    const all = wordForms(word);
    return `(${(all.length > MAX_FORMS ? [word] : all).map(lexeme).join(' | ')})`;
  });
  const text = params.add(forms.join(' <-> '));
  return `(to_tsquery('simple', ${text}) || to_tsquery('russian', ${text}) || to_tsquery('english', ${text}))`;
}
