// The json source kind: items from a JSON list API (such as GSV's api.rusislworld.ru), each field taken
// from a path ("category.name") or a template of paths ("https://rusislworld.ru/articles/{slug}"),
// following the API's link to the next page up to a number of pages.
import type { JsonSpec } from '../config/schema.ts';
import type { RawItem } from '../item.ts';
import { decode } from './decode.ts';
import { ParseError } from './feed.ts';
import type { FetchResponse } from './fetch.ts';
import type { Miss } from './layout.ts';
import type { FetchPage } from './page.ts';

export interface JsonItems {
  items: RawItem[];
  misses: Miss[];
}

type Field = keyof JsonSpec['fields'];

/** The items of the first page and of the pages its "next" links lead to, up to spec.pages pages. */
export async function readJson(first: FetchResponse, spec: JsonSpec, fetchPage: FetchPage): Promise<JsonItems> {
  const items: RawItem[] = [];
  const found = new Set<Field>();
  const seen = new Set<string>();
  let response = first;
  for (;;) {
    seen.add(response.url);
    const document = parseJson(response);
    const list = spec.items ? valueAt(document, spec.items) : document;
    if (!Array.isArray(list)) throw new ParseError(`the list path "${spec.items}" is not a list in the response from ${response.url}: has the API changed?`);
    for (const entry of list as unknown[]) items.push(toRawItem(entry, spec, response.url, found));
    const next = spec.next ? resolve(text(valueAt(document, spec.next)), response.url) : undefined;
    if (!next || seen.size >= spec.pages || seen.has(next)) break;
    response = await fetchPage(next, 'json');
  }
  const misses = items.length === 0 ? [] : (Object.entries(spec.fields) as [Field, string][]).filter(([field]) => !found.has(field)).map(([field, path]): Miss => ({ field, selector: path, kind: 'path' }));
  return { items, misses };
}

/** A JSON response's value; a page that is not JSON (an error page, bot protection) is a ParseError saying so. */
export function parseJson(response: FetchResponse): unknown {
  const body = decode(response.body, response.contentType).text;
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const head = body.trimStart().slice(0, 64).toLowerCase();
    const what = head.startsWith('<') ? 'an HTML or XML page' : head ? `not JSON (${(err as Error).message})` : 'empty';
    throw new ParseError(`the response from ${response.url} is ${what}, not the JSON the source expects`);
  }
}

function toRawItem(entry: unknown, spec: JsonSpec, pageUrl: string, found: Set<Field>): RawItem {
  const get = (field: Exclude<Field, 'categories'>): string | undefined => {
    const path = spec.fields[field];
    const value = path === undefined ? undefined : fill(entry, path);
    if (value) found.add(field);
    return value;
  };
  const categories = spec.fields.categories === undefined ? [] : strings(valueAt(entry, spec.fields.categories));
  if (categories.length > 0) found.add('categories');
  return {
    guid: get('guid'),
    title: get('title'),
    url: resolve(get('link'), pageUrl),
    summary: get('summary'),
    content: get('content'),
    published: get('date'),
    updated: get('updated'),
    author: get('author'),
    image: resolve(get('image'), pageUrl),
    categories,
    articleUrl: spec.detail ? resolve(fill(entry, spec.detail.url), pageUrl) : undefined,
  };
}

/** A field's text: the value at a path, or a template with every {path} filled; undefined when a value is missing. */
export function fill(entry: unknown, pathOrTemplate: string): string | undefined {
  if (!pathOrTemplate.includes('{')) return text(valueAt(entry, pathOrTemplate));
  let missing = false;
  const filled = pathOrTemplate.replace(/\{([^{}]+)\}/g, (_, path: string) => {
    const value = text(valueAt(entry, path.trim()));
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : filled;
}

/** The value at a dotted path ("category.name", "images.0.url"); a name applied to a list applies to each element ("tags.name"). */
export function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.').filter(Boolean)) {
    if (Array.isArray(current) && !/^\d+$/.test(key)) current = current.map((element) => valueAt(element, key)).flat();
    else if (current !== null && typeof current === 'object') current = (current as Record<string, unknown>)[key];
    else return undefined;
  }
  return current;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(text).filter((s): s is string => s !== undefined);
}

function resolve(url: string | undefined, base: string): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
}
