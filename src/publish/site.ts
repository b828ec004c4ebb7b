// What each published resource says, rendered from the store: feeds in every format, the index page,
// the OPML list. The server caches and serves these; `newsloom export` writes them to files.
import type { Config } from '../config/schema.ts';
import type { StoredItem } from '../store/items.ts';
import type { Store } from '../store/store.ts';
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
  /** Where the search index stood when the request came (Generation.search); read from the store when absent. */
  search?: string;
}

export const FORMATS: FeedFormat[] = ['atom', 'rss', 'json'];

/** Entries shown under each output on the index page. */
const LATEST_ON_INDEX = 5;

export function feedBody(site: Site, request: FeedRequest, format: FeedFormat): Body {
  const { config, store, baseUrl } = site;
  const items = store.items.list(request.query);
  const page = items.slice(0, request.limit);
  const document = buildDocument(config, {
    address: { baseUrl, path: request.spec.path, params: request.params },
    title: request.spec.kind === 'search' ? searchTitle(request.params) : request.spec.title,
    description: request.spec.kind === 'search' && request.query.search ? buildingNote(site) : request.spec.description,
    items: page,
    cursor: request.cursor,
    nextCursor: items.length > request.limit && !site.static ? encodeCursor(page.at(-1)!) : undefined,
    sources: sourceInfo(site, page),
  });
  const body = format === 'atom' ? renderAtom(document) : format === 'rss' ? renderRss(document, Math.ceil(site.maxAgeSeconds / 60)) : renderJsonFeed(document);
  return { type: `${MEDIA_TYPES[format]}; charset=utf-8`, body, lastModified: document.updated };
}

export function indexBody(site: Site): Body {
  const { config, store } = site;
  const summaries = allFeeds(config).map((spec): FeedSummary => {
    const latest = spec.kind === 'feeds' ? store.items.list({ ...spec.query, limit: LATEST_ON_INDEX }) : [];
    return { spec, count: spec.kind === 'feeds' ? store.items.countMatching(spec.query) : undefined, latest };
  });
  // The page also shows source health, which has no date of its own: it changed when it was rendered.
  const body = renderIndex(config, summaries, store.sources.health(), site.baseUrl, buildingNote(site));
  return { type: 'text/html; charset=utf-8', body, lastModified: Date.now() };
}

export function opmlBody(site: Site): Body {
  return { type: 'text/x-opml; charset=utf-8', body: renderOpml(site.config, site.baseUrl), lastModified: Date.now() };
}

/** What the page's entries show of their sources (and their related reports' sources), read in one statement. */
function sourceInfo(site: Site, page: StoredItem[]): Map<string, SourceInfo> {
  const shown = new Set(page.flatMap((item) => [item.sourceId, ...item.related.map((r) => r.sourceId)]));
  const configured = site.config.sources.filter((s) => shown.has(s.id));
  const states = site.store.sources.getMany(configured.map((s) => s.id));
  return new Map(
    configured.map((s) => {
      const state = states.get(s.id);
      return [s.id, { id: s.id, title: s.title ?? state?.title ?? s.id, feedUrl: s.url, siteUrl: state?.siteUrl ?? null }];
    }),
  );
}

/** While the search index is being built, what a search finds meanwhile; nothing once it is built. */
function buildingNote({ store, search }: Site): string | undefined {
  if (search !== undefined && !store.search.building(search)) return undefined;
  const { building, backlog } = store.search.progress();
  if (!building) return undefined;
  return `The search index is being built: ${backlog.toLocaleString('en-US')} ${backlog === 1 ? 'item is' : 'items are'} not searchable yet. Until it is done, a search finds the newest items first.`;
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
