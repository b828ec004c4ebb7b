// What each published resource says, rendered from the store: feeds in every format, their HTML pages
// (built from the same document, so a page and its feed show the same entries), the index page, the OPML
// list. The server caches and serves these; `newsloom export` writes them to files.
import type { Config } from '../config/schema.ts';
import type { SourceState, Store, StoredItem } from '../store/store.ts';
import { renderAtom } from './atom.ts';
import type { Body } from './cache.ts';
import { buildDocument, MEDIA_TYPES, type FeedDocument, type FeedFormat, type SourceInfo } from './document.ts';
import { allFeeds, SEARCH, type FeedSpec } from './feeds.ts';
import { renderJsonFeed } from './jsonfeed.ts';
import type { Lang } from './language.ts';
import { renderOpml } from './opml.ts';
import type { Chrome } from './pages/chrome.ts';
import { renderFeedPage } from './pages/feed-page.ts';
import { renderIndex, type FeedSummary } from './pages/index-page.ts';
import { encodeCursor, type FeedRequest } from './params.ts';
import { renderRss } from './rss.ts';

export interface Site {
  config: Config;
  store: Store;
  /** The public root, without a trailing slash. */
  baseUrl: string;
  /** How long readers may keep a response (Cache-Control max-age), in seconds. */
  maxAgeSeconds: number;
  /** Files on a static host: a feed is one page, since a "next" URL with a cursor would not exist, and no page has a search box. */
  static?: boolean;
  /** Where the search index stood when the request came (Generation.search); read from the store when absent. */
  search?: string;
  /** The index page's entry counts, kept between renders (the server's); counted afresh without it. */
  counts?: EntryCounts;
  /** The sources' stored titles and sites, kept between renders (the server's); read for each page without it. */
  sourceStates?: SourceStates;
}

/** What a person's page is shown in: the chrome's language, and the pages before it (for its "newer" link). */
export interface PageView {
  lang: Lang;
  back: string[];
}

export const FORMATS: FeedFormat[] = ['atom', 'rss', 'json'];

/** Entries shown under each output on the index page. */
const LATEST_ON_INDEX = 5;

/** A page of a feed as format-independent data: what its feed in every format and its HTML page show. */
async function feedDocument(site: Site, request: FeedRequest): Promise<FeedDocument> {
  const { config, store, baseUrl } = site;
  const items = await store.items.list(request.query);
  const page = items.slice(0, request.limit);
  return buildDocument(config, {
    address: { baseUrl, path: request.spec.path, params: request.params },
    title: request.spec.kind === 'search' ? searchTitle(request.params) : request.spec.title,
    description: request.spec.kind === 'search' && request.query.search ? await buildingNote(site) : request.spec.description,
    items: page,
    cursor: request.cursor,
    nextCursor: items.length > request.limit && !site.static ? encodeCursor(page.at(-1)!) : undefined,
    sources: await sourceInfo(site, page),
  });
}

export async function feedBody(site: Site, request: FeedRequest, format: FeedFormat): Promise<Body> {
  const document = await feedDocument(site, request);
  const body = format === 'atom' ? renderAtom(document) : format === 'rss' ? renderRss(document, Math.ceil(site.maxAgeSeconds / 60)) : renderJsonFeed(document);
  return { type: `${MEDIA_TYPES[format]}; charset=utf-8`, body, lastModified: document.updated };
}

/** The HTML page of a feed or a search. A search with no text and no filter shows the search box and its hints only. */
export async function pageBody(site: Site, request: FeedRequest, view: PageView): Promise<Body> {
  if (request.spec.kind !== 'search') {
    const document = await feedDocument(site, request);
    return htmlBody(renderFeedPage({ chrome: chrome(site, view), document, back: view.back }), document.updated);
  }
  const asked = request.params.some(([name]) => name !== 'limit');
  const document = asked ? await feedDocument(site, request) : emptyDocument(site, request.spec);
  const count = asked ? await site.store.items.countEntries({ ...request.query, before: undefined }) : 0;
  const search = { asked, text: new Map(request.params).get('q'), count };
  return htmlBody(renderFeedPage({ chrome: chrome(site, view), document, back: view.back, search }), document.updated);
}

/** The search page for a search that cannot run (a bad parameter): what is wrong, and the hints. */
export function searchErrorBody(site: Site, view: PageView, text: string | undefined, error: string): Body {
  const search = { asked: true, text, count: 0, error };
  return htmlBody(renderFeedPage({ chrome: chrome(site, view), document: emptyDocument(site, SEARCH), back: [], search }), 0);
}

function chrome(site: Site, view: PageView): Chrome {
  return { lang: view.lang, baseUrl: site.baseUrl, search: !site.static };
}

function htmlBody(body: string, lastModified: number): Body {
  // A page without entries has no date of its own: it changed when it was rendered.
  return { type: 'text/html; charset=utf-8', body, lastModified: lastModified || Date.now() };
}

function emptyDocument(site: Site, spec: FeedSpec): FeedDocument {
  return buildDocument(site.config, {
    address: { baseUrl: site.baseUrl, path: spec.path, params: [] },
    title: spec.title,
    description: spec.description,
    items: [],
    cursor: undefined,
    nextCursor: undefined,
    sources: new Map(),
  });
}

export async function indexBody(site: Site, lang: Lang): Promise<Body> {
  const { config, store } = site;
  const counts = site.counts ?? new EntryCounts();
  const summaries = await Promise.all(
    allFeeds(config).map(async (spec): Promise<FeedSummary> => {
      const latest = spec.kind === 'feeds' ? await store.items.list({ ...spec.query, limit: LATEST_ON_INDEX }) : [];
      return { spec, count: spec.kind === 'feeds' ? await counts.get(site, spec) : undefined, latest };
    }),
  );
  // The page also shows source health, which has no date of its own: it changed when it was rendered.
  return htmlBody(renderIndex(config, summaries, await store.sources.health(), chrome(site, { lang, back: [] }), await buildingNote(site)), 0);
}

/** Values kept between renders for as long as the store's feeds generation and the config stay the same. */
class PerGeneration<V> {
  private generation = -1;
  private config: object | undefined;
  private readonly values = new Map<string, V>();

  /** The values of this generation and config: emptied first when either moved. */
  async current(site: Site): Promise<Map<string, V>> {
    const { feeds } = await site.store.generation();
    if (feeds !== this.generation || site.config !== this.config) {
      this.values.clear();
      this.generation = feeds;
      this.config = site.config;
    }
    return this.values;
  }
}

/**
 * How many entries each feed holds, counted once per store generation and config: source health moves the index
 * page far more often than new entries do, and a count reads every item the feed selects.
 */
export class EntryCounts {
  private readonly counts = new PerGeneration<number>();

  async get(site: Site, spec: FeedSpec): Promise<number> {
    const counts = await this.counts.current(site);
    let count = counts.get(spec.path);
    if (count === undefined) counts.set(spec.path, (count = await site.store.items.countEntries(spec.query)));
    return count;
  }
}

/**
 * The sources' stored titles and sites that pages show, kept per store generation and config: a change of a source's
 * title, site or address moves the feeds' generation (both engines' triggers), so a cold render reads only the sources
 * no page of this generation has shown yet, and usually none (one statement fewer a page; a network round trip on
 * PostgreSQL).
 */
export class SourceStates {
  /** By source id; null: not stored (a source not polled yet). */
  private readonly states = new PerGeneration<Pick<SourceState, 'title' | 'siteUrl'> | null>();

  async get(site: Site, ids: string[]): Promise<Map<string, Pick<SourceState, 'title' | 'siteUrl'>>> {
    const states = await this.states.current(site);
    const missing = ids.filter((id) => !states.has(id));
    if (missing.length > 0) {
      const read = await site.store.sources.getMany(missing);
      for (const id of missing) {
        const state = read.get(id);
        states.set(id, state ? { title: state.title, siteUrl: state.siteUrl } : null);
      }
    }
    const found = new Map<string, Pick<SourceState, 'title' | 'siteUrl'>>();
    for (const id of ids) {
      const state = states.get(id);
      if (state) found.set(id, state);
    }
    return found;
  }
}

export function opmlBody(site: Site): Body {
  return { type: 'text/x-opml; charset=utf-8', body: renderOpml(site.config, site.baseUrl), lastModified: Date.now() };
}

/** What the page's entries show of their sources (and their related reports' sources), read in one statement. */
async function sourceInfo(site: Site, page: StoredItem[]): Promise<Map<string, SourceInfo>> {
  const shown = new Set(page.flatMap((item) => [item.sourceId, ...item.related.map((r) => r.sourceId)]));
  const configured = site.config.sources.filter((s) => shown.has(s.id));
  const ids = configured.map((s) => s.id);
  const states = site.sourceStates ? await site.sourceStates.get(site, ids) : await site.store.sources.getMany(ids);
  return new Map(
    configured.map((s) => {
      const state = states.get(s.id);
      return [s.id, { id: s.id, title: s.title ?? state?.title ?? s.id, feedUrl: s.url, siteUrl: state?.siteUrl ?? null }];
    }),
  );
}

/** While the search index is being built, what a search finds meanwhile; nothing once it is built. */
async function buildingNote({ store, search }: Site): Promise<string | undefined> {
  if (search !== undefined && !(await store.search.building(search))) return undefined;
  const { building, backlog } = await store.search.progress();
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
