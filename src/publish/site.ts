// What each published resource says, rendered from the store: feeds in every format, the index page,
// the OPML list. The server caches and serves these; `newsloom export` writes them to files.
import type { Config } from '../config/schema.ts';
import type { Store, StoredItem } from '../store/store.ts';
import { renderAtom } from './atom.ts';
import type { Body } from './cache.ts';
import { buildDocument, MEDIA_TYPES, type FeedFormat, type SourceInfo } from './document.ts';
import { allFeeds } from './feeds.ts';
import { renderIndex, type FeedSummary } from './index-page.ts';
import { renderJsonFeed } from './jsonfeed.ts';
import { renderOpml } from './opml.ts';
import { encodeCursor, type FeedRequest } from './params.ts';
import { renderRss } from './rss.ts';

export interface Site {
  config: Config;
  store: Store;
  /** The public root, without a trailing slash. */
  baseUrl: string;
  /** How long readers may keep a response (Cache-Control max-age), in seconds. */
  maxAgeSeconds: number;
  /** Files on a static host: a feed is one page, since a "next" URL with a cursor would not exist. */
  static?: boolean;
}

export const FORMATS: FeedFormat[] = ['atom', 'rss', 'json'];

/** Entries shown under each output on the index page. */
const LATEST_ON_INDEX = 5;

export async function feedBody(site: Site, request: FeedRequest, format: FeedFormat): Promise<Body> {
  const { config, store, baseUrl } = site;
  const items = await store.items.list(request.query);
  const page = items.slice(0, request.limit);
  const document = buildDocument(config, {
    address: { baseUrl, path: request.spec.path, params: request.params },
    title: request.spec.kind === 'search' ? searchTitle(request.params) : request.spec.title,
    description: request.spec.description,
    items: page,
    cursor: request.cursor,
    nextCursor: items.length > request.limit && !site.static ? encodeCursor(page.at(-1)!) : undefined,
    sources: await sourceInfo(site, page),
  });
  const body = format === 'atom' ? renderAtom(document) : format === 'rss' ? renderRss(document, Math.ceil(site.maxAgeSeconds / 60)) : renderJsonFeed(document);
  return { type: `${MEDIA_TYPES[format]}; charset=utf-8`, body, lastModified: document.updated };
}

export async function indexBody(site: Site): Promise<Body> {
  const { config, store } = site;
  const summaries = await Promise.all(
    allFeeds(config).map(async (spec): Promise<FeedSummary> => {
      const latest = spec.kind === 'feeds' ? await store.items.list({ ...spec.query, limit: LATEST_ON_INDEX }) : [];
      return { spec, count: spec.kind === 'feeds' ? await store.items.countMatching(spec.query) : undefined, latest };
    }),
  );
  // The page also shows source health, which has no date of its own: it changed when it was rendered.
  return { type: 'text/html; charset=utf-8', body: renderIndex(config, summaries, await store.sources.health(), site.baseUrl), lastModified: Date.now() };
}

export function opmlBody(site: Site): Body {
  return { type: 'text/x-opml; charset=utf-8', body: renderOpml(site.config, site.baseUrl), lastModified: Date.now() };
}

/** What the page's entries show of their sources (and their related reports' sources), read in one statement. */
async function sourceInfo(site: Site, page: StoredItem[]): Promise<Map<string, SourceInfo>> {
  const shown = new Set(page.flatMap((item) => [item.sourceId, ...item.related.map((r) => r.sourceId)]));
  const configured = site.config.sources.filter((s) => shown.has(s.id));
  const states = await site.store.sources.getMany(configured.map((s) => s.id));
  return new Map(
    configured.map((s) => {
      const state = states.get(s.id);
      return [s.id, { id: s.id, title: s.title ?? state?.title ?? s.id, feedUrl: s.url, siteUrl: state?.siteUrl ?? null }];
    }),
  );
}

function searchTitle(params: [string, string][]): string {
  const given = new Map(params);
  const parts = [
    given.has('q') ? `“${given.get('q')}”` : 'everything',
    given.has('topic') ? `in ${given.get('topic')}` : '',
    given.has('source') ? `from ${given.get('source')}` : '',
    given.has('since') ? `since ${given.get('since')}` : '',
  ];
  return `newsloom search: ${parts.filter(Boolean).join(' ')}`;
}
