// Full articles: the body of an item taken from its own page with a CSS selector (minus share widgets,
// scripts and the like), or from a JSON API's detail endpoint.
import { load } from 'cheerio/slim';
import type { FullTextSpec, SourceConfig } from '../config/schema.ts';
import { decode } from './decode.ts';
import { ParseError } from './feed.ts';
import { HTML_OPTIONS } from './html.ts';
import { fill, parseJson } from './json.ts';
import type { FetchPage } from './page.ts';

/** Where a source's full bodies come from, if it asks for them. */
export type ArticleSpec = { kind: 'page'; fullText: FullTextSpec } | { kind: 'detail'; content: string };

export function articleSpec(source: SourceConfig): ArticleSpec | undefined {
  if (source.full_text) return { kind: 'page', fullText: source.full_text };
  if (source.json?.detail) return { kind: 'detail', content: source.json.detail.content };
  return undefined;
}

export interface Article {
  /** The body as the site wrote it; sanitize before storing. */
  html: string;
  /** The URL it came from after redirects, to resolve its relative links. */
  url: string;
}

export async function fetchArticle(spec: ArticleSpec, url: string, fetchPage: FetchPage): Promise<Article> {
  if (spec.kind === 'detail') {
    const response = await fetchPage(url, 'json');
    const html = fill(parseJson(response), spec.content);
    if (!html) throw new ParseError(`the detail path "${spec.content}" found nothing in ${response.url}`);
    return { html, url: response.url };
  }
  const response = await fetchPage(url, 'html');
  const html = extractArticle(decode(response.body, response.contentType, 'html').text, spec.fullText);
  if (html === undefined) throw new ParseError(`the article selector "${spec.fullText.selector}" found nothing on ${response.url}`);
  return { html, url: response.url };
}

/** The HTML of every element the selector matches, after removing what `remove` matches; undefined when it matches nothing. */
export function extractArticle(page: string, spec: FullTextSpec): string | undefined {
  const $ = load(page, HTML_OPTIONS);
  const body = $(spec.selector);
  if (body.length === 0) return undefined;
  for (const selector of spec.remove) body.find(selector).remove();
  return body
    .toArray()
    .map((element) => $.html(element))
    .join('\n');
}
