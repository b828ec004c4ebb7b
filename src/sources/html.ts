// The html source kind: items scraped from a list page with CSS selectors, the way RSS-Bridge's
// CSS selector bridge and FreshRSS's HTML feeds do it, configured in YAML alone.
import { load, type Cheerio, type CheerioAPI } from 'cheerio/slim';
import type { AnyNode } from 'domhandler';
import type { FieldSelector, HtmlSpec } from '../config/schema.ts';
import type { RawItem } from '../item.ts';
import { ParseError } from './feed.ts';
import type { Miss } from './layout.ts';

export interface ScrapedPage {
  title: string | undefined;
  items: RawItem[];
  /** Fields whose selector found nothing in any item. */
  misses: Miss[];
}

/** HTML parsing (not XML) whose output keeps Cyrillic as characters rather than &#x41f; entities. */
export const HTML_OPTIONS = { xml: { xmlMode: false, encodeEntities: 'utf8' as const } };

type Field = 'title' | 'link' | 'date' | 'summary' | 'image';

const RAW_FIELD = { title: 'title', link: 'url', date: 'published', summary: 'summary', image: 'image' } as const satisfies Record<Field, keyof RawItem>;

/** Attributes read when a field's selector names none: a link's href, an image's (lazy-loaded) source, a <time>'s datetime. */
const DEFAULT_ATTRIBUTES: Record<Field, string[]> = { title: [], link: ['href'], date: ['datetime'], summary: [], image: ['src', 'data-src', 'data-lazy-src'] };

/** The items of a list page; throws a ParseError when the item selector finds nothing. */
export function scrapeHtml(html: string, pageUrl: string, spec: HtmlSpec): ScrapedPage {
  const $ = load(html, HTML_OPTIONS);
  const base = absolute($('base[href]').attr('href'), pageUrl) ?? pageUrl;
  const elements = $(spec.item);
  if (elements.length === 0) throw new ParseError(`the item selector "${spec.item}" found nothing on ${pageUrl}: has the site's layout changed?`);
  const fields: [Field, FieldSelector | undefined][] = [
    ['title', spec.title],
    ['link', spec.link],
    ['date', spec.date],
    ['summary', spec.summary],
    ['image', spec.image],
  ];
  const found = new Set<Field>();
  const items: RawItem[] = elements.toArray().map(() => ({}));
  for (const [field, selector] of fields) {
    if (!selector) continue;
    firstMatches(elements, selector.selector).forEach((element, i) => {
      const value = element && readField($, $(element), field, selector, base);
      if (!value) return;
      items[i]![RAW_FIELD[field]] = value;
      found.add(field);
    });
  }
  const misses = fields
    .filter(([field, selector]) => selector && !found.has(field))
    .map(([field, selector]): Miss => ({ field, selector: describeSelector(selector!), kind: 'selector' }));
  return { title: $('title').first().text().trim() || undefined, items, misses };
}

/** Why a selector is not one cheerio can use, or undefined when it is fine. */
export function selectorProblem(selector: string): string | undefined {
  try {
    load('').root().find(selector);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The first element inside each item that the selector matches (the item itself for an empty selector).
 * One query for all items, each match given to its nearest item: compiling the selector once per item
 * made scraping a 50-item page ten times slower than parsing it.
 */
function firstMatches(items: Cheerio<AnyNode>, selector: string): (AnyNode | undefined)[] {
  const list = items.toArray();
  if (!selector) return list;
  const index = new Map<AnyNode, number>(list.map((element, i) => [element, i]));
  const first: (AnyNode | undefined)[] = list.map(() => undefined);
  for (const match of items.find(selector).toArray()) {
    for (let node = match.parent; node; node = node.parent) {
      const i = index.get(node);
      if (i === undefined) continue;
      first[i] ??= match;
      break;
    }
  }
  return first;
}

function readField($: CheerioAPI, element: Cheerio<AnyNode>, field: Field, spec: FieldSelector, base: string): string | undefined {
  const attribute = spec.attr ? element.attr(spec.attr) : DEFAULT_ATTRIBUTES[field].map((name) => element.attr(name)).find((value) => value?.trim());
  if (field === 'link' || field === 'image') return absolute(attribute ?? (field === 'link' ? element.text() : undefined), base);
  if (attribute !== undefined) return attribute.trim() || undefined;
  if (field === 'summary') return summaryHtml($, element, base);
  return element.text().replace(/\s+/g, ' ').trim() || undefined;
}

/**
 * The inner HTML of a summary with its links and images made absolute against the list page (not the item's
 * page); a summary without markup is given as its text, so that normalize escapes it rather than reads "&amp;" as markup.
 */
function summaryHtml($: CheerioAPI, element: Cheerio<AnyNode>, base: string): string | undefined {
  if (element.children().length === 0) return element.text().trim() || undefined;
  const copy = element.clone();
  copy.find('a[href]').each((_, a) => void $(a).attr('href', absolute($(a).attr('href'), base) ?? ''));
  copy.find('img[src]').each((_, img) => void $(img).attr('src', absolute($(img).attr('src'), base) ?? ''));
  return copy.html()?.trim() || undefined;
}

function absolute(url: string | undefined, base: string): string | undefined {
  if (!url?.trim()) return undefined;
  try {
    return new URL(url.trim(), base).href;
  } catch {
    return undefined;
  }
}

function describeSelector(field: FieldSelector): string {
  return field.attr ? `${field.selector}@${field.attr}` : field.selector;
}
