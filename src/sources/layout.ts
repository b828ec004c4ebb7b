// What a scraper (html, json) did not find: a selector or path that matched nothing is how a changed site
// layout shows, so it is an error on the source rather than a quiet "no new items".
import { ParseError } from './feed.ts';

/** A field whose selector (html) or path (json) found nothing in any item. */
export interface Miss {
  field: string;
  /** A CSS selector of an html source, or a path or template of a json source. */
  selector: string;
  kind: 'selector' | 'path';
}

/** Whether an item is worth keeping without this field: a miss of title or link is a layout change, of any other a warning. */
export function isRequired(miss: Miss): boolean {
  return miss.field === 'title' || miss.field === 'link';
}

/** Throws a ParseError when a required field found nothing; says what the other misses were. */
export function checkMisses(misses: Miss[], itemCount: number, warn: (message: string) => void): void {
  const required = misses.filter(isRequired);
  if (required.length > 0) throw new ParseError(`${required.map((m) => describeMiss(m, itemCount)).join('; ')}: has the site's layout changed?`);
  for (const miss of misses) warn(describeMiss(miss, itemCount));
}

export function describeMiss(miss: Miss, itemCount: number): string {
  return `the ${miss.field} ${miss.kind} "${miss.selector}" found nothing in any of the ${itemCount} items`;
}
