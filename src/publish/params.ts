// The URL parameters of a feed request, checked: a bad value is an error a person can read (a 400),
// never an exception. Unknown parameters (utm_source and friends) are ignored.
import type { Config } from '../config/schema.ts';
import { parseSearch } from '../text/search-query.ts';
import type { Cursor, StoredItem } from '../store/store.ts';
import { MAX_LIMIT, type FeedSpec } from './feeds.ts';

export interface FeedRequest {
  spec: FeedSpec;
  /** The query to run: the spec's, narrowed by the parameters; asks for one entry more than a page to see if another follows. */
  query: FeedSpec['query'];
  /** Entries in a page. */
  limit: number;
  /** The selecting parameters as given, in a fixed order (for links and cache keys); no cursor. */
  params: [string, string][];
  cursor: string | undefined;
}

export type Parsed = { ok: true; request: FeedRequest } | { ok: false; message: string };

/** Earlier pages remembered in a page's URL, for its "newer" link; past this many the oldest are forgotten. */
export const MAX_BACK = 20;

const SEARCH_PARAMS = ['q', 'sort', 'topic', 'source', 'since'] as const;

export function parseFeedParams(config: Config, spec: FeedSpec, search: URLSearchParams): Parsed {
  const single = (name: string): string | undefined | Error => {
    const values = search.getAll(name);
    return values.length > 1 ? new Error(`${name} is given ${values.length} times; give it once`) : values[0];
  };
  const params: [string, string][] = [];
  const query = { ...spec.query };

  if (spec.kind === 'search') {
    for (const name of SEARCH_PARAMS) {
      const value = single(name);
      if (value instanceof Error) return { ok: false, message: value.message };
      if (value === undefined) continue;
      const problem = applySearchParam(config, query, name, value);
      if (problem) return { ok: false, message: problem };
      params.push([name, value]);
    }
  }

  const limitText = single('limit');
  if (limitText instanceof Error) return { ok: false, message: limitText.message };
  let limit = spec.query.limit;
  if (limitText !== undefined) {
    if (!/^\d{1,9}$/.test(limitText) || Number(limitText) < 1) return { ok: false, message: `limit must be a whole number from 1 to ${MAX_LIMIT}, not "${clip(limitText)}"` };
    limit = Math.min(Number(limitText), MAX_LIMIT);
    params.push(['limit', String(limit)]);
  }

  const cursor = single('cursor');
  if (cursor instanceof Error) return { ok: false, message: cursor.message };
  if (cursor !== undefined) {
    const before = decodeCursor(cursor);
    // A ranked search pages by score, everything else by date: a cursor of the other kind is not this feed's.
    const ranked = query.search !== undefined && query.sort !== 'date';
    if (!before || ranked !== ('score' in before)) return { ok: false, message: `cursor "${clip(cursor)}" is not one this server gave; follow the feed's "next" link` };
    query.before = before;
  }
  query.limit = limit + 1;
  return { ok: true, request: { spec, query, limit, params, cursor } };
}

function applySearchParam(config: Config, query: FeedSpec['query'], name: (typeof SEARCH_PARAMS)[number], value: string): string | undefined {
  switch (name) {
    case 'q': {
      const parsed = parseSearch(value);
      if (!parsed.ok) return `q cannot be read: ${parsed.message}`;
      query.search = parsed.query;
      return undefined;
    }
    case 'sort':
      if (value !== 'relevance' && value !== 'date') return `sort must be relevance (best first, the default) or date (newest first), not "${clip(value)}"`;
      query.sort = value;
      return undefined;
    case 'topic':
    case 'source': {
      const known = new Set((name === 'topic' ? config.topics : config.sources).map((x) => x.id));
      const ids = value.split(',');
      const unknown = ids.find((id) => !known.has(id));
      if (unknown !== undefined) return `unknown ${name} "${clip(unknown)}" (known: ${[...known].join(', ') || 'none'})`;
      if (name === 'topic') query.topics = ids;
      else query.sources = ids;
      return undefined;
    }
    case 'since': {
      const ms = parseSince(value);
      if (ms === undefined) return `since must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z), not "${clip(value)}"`;
      query.since = ms;
      return undefined;
    }
  }
}

const SINCE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

function parseSince(value: string): number | undefined {
  if (!SINCE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The cursor after an entry: its sort key (a ranked search's: its score), compact and opaque to readers. */
export function encodeCursor(item: Pick<StoredItem, 'publishedAt' | 'id' | 'score'>): string {
  if (item.score !== undefined) return `s${item.score}_${item.id.toString(36)}`;
  return `${item.publishedAt.toString(36)}.${item.id.toString(36)}`;
}

/** A page's `back` parameter: the cursors of the pages before it, oldest first (see pages/feed-page.ts). */
export function parseBack(search: URLSearchParams): string[] | Error {
  const text = search.get('back');
  if (!text) return [];
  const cursors = text.split(',');
  const bad = cursors.find((c) => !decodeCursor(c));
  return bad === undefined ? cursors.slice(-MAX_BACK) : new Error(`back "${clip(bad)}" is not a cursor this server gave; follow the page's links`);
}

function decodeCursor(text: string): Cursor | undefined {
  const scored = /^s(-?\d+(?:\.\d+)?(?:e[-+]\d+)?)_([0-9a-z]{1,11})$/.exec(text);
  if (scored) {
    const score = Number(scored[1]);
    const id = parseInt(scored[2]!, 36);
    return Number.isFinite(score) && Number.isSafeInteger(id) ? { score, id } : undefined;
  }
  const match = /^(-?[0-9a-z]{1,11})\.([0-9a-z]{1,11})$/.exec(text);
  if (!match) return undefined;
  const publishedAt = parseInt(match[1]!, 36);
  const id = parseInt(match[2]!, 36);
  return Number.isSafeInteger(publishedAt) && Number.isSafeInteger(id) ? { publishedAt, id } : undefined;
}

/** A parameter value quoted back in a message, cut short. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
