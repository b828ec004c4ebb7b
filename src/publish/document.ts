// What a feed says, independent of its format: built once from stored items, then written as Atom,
// RSS 2.0 or JSON Feed. Every URL here is absolute; every date is epoch milliseconds.
import type { Config } from '../config/schema.ts';
import type { Enclosure } from '../item.ts';
import { itemUid } from '../text/uid.ts';
import { escapeHtml } from '../text/html.ts';
import type { StoredItem } from '../store/store.ts';
import { ENTRY_WORDS, entryLang } from './language.ts';

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
  /** A language tag: the item's (its source's), else guessed from its letters. */
  language: string;
  /** Sanitized HTML, with the other reports of the same story appended. */
  contentHtml: string;
  /** A plain-text summary, when the item has one distinct from its content. */
  summaryText: string;
  /** The item's text in a few sentences, for a page: its summary, else the start of its content. */
  excerpt: string;
  categories: { term: string; label: string }[];
  /** The categories the source gave the item (`categories` are newsloom's topics). */
  tags: string[];
  /** The item's picture. */
  image: string | null;
  /** The media files the source attached (podcast audio, video, pictures). */
  enclosures: Enclosure[];
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

/** The URL of the feed in a format, or of its HTML page, at a page (no cursor: the first page). */
export function feedUrl(address: FeedAddress, format: FeedFormat | 'html', cursor?: string): string {
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
    const language = item.language && LANGUAGE_TAG.test(item.language) ? item.language : entryLang(null, `${item.title} ${item.summaryText}`);
    const alsoReported = related.length
      ? `<p>${ENTRY_WORDS[entryLang(language, '')].alsoReportedBy}: ${related.map((r) => `<a href="${escapeHtml(r.url)}">${escapeHtml(r.sourceTitle)}</a>`).join(', ')}</p>`
      : '';
    return {
      id: item.uid,
      title: item.title,
      url: item.url,
      published: clampDate(item.publishedAt),
      updated: clampDate(Math.max(item.updatedAt, item.publishedAt)),
      author: item.author ?? source.title,
      language,
      contentHtml: (item.contentHtml || item.summaryHtml) + alsoReported,
      summaryText: item.contentHtml && item.summaryText !== item.contentText ? item.summaryText : '',
      excerpt: excerpt(item.summaryText || item.contentText),
      categories: item.topics.map((topic) => ({ term: topic, label: topicTitles.get(topic) ?? topic })),
      tags: item.categories,
      image: item.image,
      enclosures: item.enclosures,
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

/** The enclosures, then the picture when it is not one of them (its type guessed from its name): what Atom and RSS list. */
export function mediaFiles(entry: EntryDocument): Enclosure[] {
  const { image, enclosures } = entry;
  if (!image || enclosures.some((e) => e.url === image)) return enclosures;
  const extension = /\.(jpe?g|png|gif|webp|avif)(?:[?#]|$)/i.exec(new URL(image).pathname)?.[1]?.toLowerCase();
  return [...enclosures, { url: image, type: extension ? `image/${extension === 'jpg' ? 'jpeg' : extension}` : null, length: null }];
}

/** Characters of an excerpt, at most: a few sentences, cut at a word. */
const EXCERPT = 400;

function excerpt(text: string): string {
  if (text.length <= EXCERPT) return text;
  const cut = text.slice(0, EXCERPT);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), EXCERPT / 2)).trimEnd()}…`;
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
