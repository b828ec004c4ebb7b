// What a feed says, independent of its format: built once from stored items, then written as Atom,
// RSS 2.0 or JSON Feed. Every URL here is absolute; every date is epoch milliseconds.
import type { Config } from '../config/schema.ts';
import { itemUid } from '../text/uid.ts';
import { escapeHtml } from '../text/html.ts';
import type { StoredItem } from '../store/store.ts';

export type FeedFormat = 'atom' | 'rss' | 'json';

export const MEDIA_TYPES: Record<FeedFormat, string> = {
  atom: 'application/atom+xml',
  rss: 'application/rss+xml',
  json: 'application/feed+json',
};

/** Where the feed lives: its address without extension and the query that selects its entries. */
export interface FeedAddress {
  /** The public root, e.g. https://news.example.org (no trailing slash). */
  baseUrl: string;
  /** e.g. /topics/kazakhstan or /search */
  path: string;
  /** The parameters that choose entries (q, topic, limit…), in a fixed order; no cursor. */
  params: [string, string][];
}

export interface FeedDocument {
  address: FeedAddress;
  /** Stable forever: derived from the feed's path and selecting parameters, not from the host. */
  id: string;
  title: string;
  description: string | undefined;
  /** The latest change among the entries; 0 for a feed without entries. */
  updated: number;
  /** The cursor of this page (undefined on the first page) and of the next one (undefined on the last). */
  cursor: string | undefined;
  nextCursor: string | undefined;
  entries: EntryDocument[];
}

export interface EntryDocument {
  id: string;
  title: string;
  url: string | null;
  published: number;
  updated: number;
  /** The item's author, else the source's title: every entry has one. */
  author: string;
  language: string | null;
  /** Sanitized HTML, with the other reports of the same story appended. */
  contentHtml: string;
  /** A plain-text summary, when the item has one distinct from its content. */
  summaryText: string;
  categories: { term: string; label: string }[];
  source: SourceInfo;
  related: { title: string; url: string; sourceTitle: string }[];
}

export interface SourceInfo {
  id: string;
  title: string;
  /** The feed newsloom polls. */
  feedUrl: string;
  /** The site the source's feed names as its home, when it names one. */
  siteUrl: string | null;
}

/** The URL of the feed in a format, at a page (no cursor: the first page). */
export function feedUrl(address: FeedAddress, format: FeedFormat, cursor?: string): string {
  const params = new URLSearchParams(address.params);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return `${address.baseUrl}${address.path}.${format}${query ? `?${query}` : ''}`;
}

/** Where a topic's category terms are defined: its feed, so that a term is also a link. */
export function topicScheme(baseUrl: string): string {
  return `${baseUrl}/topics/`;
}

export function stylesheetUrl(baseUrl: string): string {
  // A path without the host: browsers only apply a stylesheet from the feed's own origin.
  return `${new URL(baseUrl).pathname.replace(/\/+$/, '')}/feed.xsl`;
}

export interface DocumentInput {
  address: FeedAddress;
  title: string;
  description: string | undefined;
  items: StoredItem[];
  cursor: string | undefined;
  nextCursor: string | undefined;
  sources: ReadonlyMap<string, SourceInfo>;
}

export function buildDocument(config: Config, input: DocumentInput): FeedDocument {
  const topicTitles = new Map(config.topics.map((t) => [t.id, t.title ?? t.id]));
  const sourceOf = (id: string): SourceInfo => input.sources.get(id) ?? { id, title: id, feedUrl: `${input.address.baseUrl}/sources/${id}.atom`, siteUrl: null };
  const entries = input.items.map((item): EntryDocument => {
    const source = sourceOf(item.sourceId);
    const related = item.related
      .filter((r): r is typeof r & { url: string } => r.url !== null)
      .map((r) => ({ title: r.title, url: r.url, sourceTitle: sourceOf(r.sourceId).title }));
    const alsoReported = related.length
      ? `<p>Also reported by: ${related.map((r) => `<a href="${escapeHtml(r.url)}">${escapeHtml(r.sourceTitle)}</a>`).join(', ')}</p>`
      : '';
    return {
      id: item.uid,
      title: item.title,
      url: item.url,
      published: clampDate(item.publishedAt),
      updated: clampDate(Math.max(item.updatedAt, item.publishedAt)),
      author: item.author ?? source.title,
      language: item.language && LANGUAGE_TAG.test(item.language) ? item.language : null,
      contentHtml: (item.contentHtml || item.summaryHtml) + alsoReported,
      summaryText: item.contentHtml && item.summaryText !== item.contentText ? item.summaryText : '',
      categories: item.topics.map((topic) => ({ term: topic, label: topicTitles.get(topic) ?? topic })),
      source,
      related,
    };
  });
  const key = new URLSearchParams(input.address.params.filter(([name]) => name !== 'limit')).toString();
  return {
    address: input.address,
    id: itemUid('newsloom-feed', key ? `${input.address.path}?${key}` : input.address.path),
    title: input.title,
    description: input.description,
    updated: entries.reduce((max, e) => Math.max(max, e.updated), 0),
    cursor: input.cursor,
    nextCursor: input.nextCursor,
    entries,
  };
}

const LANGUAGE_TAG = /^[a-z]{2,8}(-[a-z0-9]{1,8})*$/i;
// RFC 3339 dates have four-digit years: keep every date inside 1970…9999.
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);

function clampDate(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), LATEST) : 0;
}

/** RFC 3339 in UTC to the second, e.g. 2021-12-24T09:00:00Z (Atom, JSON Feed). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 822 (as RSS 2.0 and HTTP want it), e.g. Fri, 24 Dec 2021 09:00:00 GMT. */
export function rfc822(ms: number): string {
  return new Date(ms).toUTCString();
}
