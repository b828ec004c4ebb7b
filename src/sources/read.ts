// Dispatch on a source's kind: each kind only turns fetched bytes into RawItems.
import type { SourceConfig } from '../config/schema.ts';
import type { RawItem } from '../item.ts';
import { decode } from './decode.ts';
import { parseFeed } from './feed.ts';
import type { FetchResponse } from './fetch.ts';
import { scrapeHtml } from './html.ts';
import { readJson } from './json.ts';
import { checkMisses, type Miss } from './layout.ts';
import type { FetchPage } from './page.ts';

export interface SourceDocument {
  title?: string | undefined;
  siteUrl?: string | undefined;
  ttlMinutes?: number | undefined;
  items: RawItem[];
  /** Fields whose selector or path found nothing in any item (html and json sources). */
  misses: Miss[];
}

export interface ReadContext {
  /** Fetches further pages (a JSON API's next pages). */
  fetchPage: FetchPage;
  /** Told about selectors or paths of optional fields that found nothing. */
  warn: (message: string) => void;
}

/** The source's items; a selector or path of a required field that found nothing is a ParseError naming it. */
export async function readSource(source: SourceConfig, response: FetchResponse, ctx: ReadContext): Promise<SourceDocument> {
  const document = await readItems(source, response, ctx.fetchPage);
  checkMisses(document.misses, document.items.length, ctx.warn);
  return document;
}

/** The source's items and what its selectors missed, without judging: `newsloom try-source` shows both. */
export async function readItems(source: SourceConfig, response: FetchResponse, fetchPage: FetchPage): Promise<SourceDocument> {
  // The schema requires html: on html sources and json: on json sources.
  switch (source.kind) {
    case 'feed': {
      const feed = parseFeed(decode(response.body, response.contentType, 'xml').text, response.url);
      return { title: feed.title, siteUrl: feed.link, ttlMinutes: feed.ttlMinutes, items: feed.items, misses: [] };
    }
    case 'html': {
      const page = scrapeHtml(decode(response.body, response.contentType, 'html').text, response.url, source.html!);
      return { title: page.title, items: page.items, misses: page.misses };
    }
    case 'json':
      return readJson(response, source.json!, fetchPage);
  }
}
