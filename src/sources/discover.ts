// When a feed's address answers with something that is not a feed, say what it is instead, and for an
// HTML page which feeds it advertises (<link rel="alternate">), so the maintainer knows what to configure.
import { load } from 'cheerio/slim';
import { decode } from './decode.ts';
import { botProtection, type FetchResponse } from './fetch.ts';

export interface AdvertisedFeed {
  url: string;
  title: string | undefined;
  type: string;
}

export interface NotAFeed {
  kind: 'not-a-feed' | 'blocked';
  message: string;
}

const FEED_TYPES = new Set(['application/rss+xml', 'application/atom+xml', 'application/rdf+xml', 'application/feed+json', 'application/json', 'text/xml', 'application/xml']);
const FEED_ROOTS = new Set(['rss', 'feed', 'rdf:rdf']);
const SHOWN_FEEDS = 3;
const CHALLENGE_PAGE_CHARS = 32 * 1024;

/** The feeds an HTML page advertises for autodiscovery, with absolute URLs, in page order. */
export function advertisedFeeds(html: string, pageUrl: string): AdvertisedFeed[] {
  const $ = load(html);
  const feeds = new Map<string, AdvertisedFeed>();
  $('link[rel][href]').each((_, element) => {
    const link = $(element);
    const rel = (link.attr('rel') ?? '').toLowerCase().split(/\s+/);
    const type = (link.attr('type') ?? '').toLowerCase().split(';')[0]!.trim();
    if (!rel.includes('alternate') || !FEED_TYPES.has(type)) return;
    let url: string;
    try {
      url = new URL(link.attr('href')!.trim(), pageUrl).href;
    } catch {
      return;
    }
    if (!feeds.has(url)) feeds.set(url, { url, title: link.attr('title')?.trim() || undefined, type });
  });
  return [...feeds.values()];
}

/**
 * Why a body that did not parse as a feed is no feed at all (empty, an HTML page, not XML, XML of
 * another kind), or undefined when it is an RSS or Atom document that is broken (a parse error).
 */
export function explainNotAFeed(response: FetchResponse): NotAFeed | undefined {
  const host = new URL(response.url).host;
  const type = response.contentType ? ` (Content-Type ${response.contentType})` : '';
  if (response.body.length === 0) return { kind: 'not-a-feed', message: `HTTP ${response.status} from ${host} with an empty body: no feed there; check the URL` };
  const text = decode(response.body, response.contentType, 'html').text;
  const root = rootElement(text);
  if (root !== undefined && FEED_ROOTS.has(root)) return undefined;
  if (root === 'html' || /^text\/html/i.test(response.contentType ?? '') || /^\s*<!doctype html/i.test(text)) {
    // Challenge pages are small; a real page this large that mentions a captcha is just a page.
    const service = text.length < CHALLENGE_PAGE_CHARS ? botProtection(text) : undefined;
    if (service) return { kind: 'blocked', message: `${host} answered with a bot-protection page (${service}) instead of the feed; give this source a browser-like user_agent and an XML Accept header` };
    return { kind: 'not-a-feed', message: describeHtml(text, response.url) };
  }
  if (root === undefined) return { kind: 'not-a-feed', message: `the answer from ${host} is not XML${type}, so not a feed; it starts with ${quote(text)}` };
  return { kind: 'not-a-feed', message: `the answer from ${host} is an XML document of another kind (<${root}>), not an RSS or Atom feed` };
}

function describeHtml(html: string, pageUrl: string): string {
  const feeds = advertisedFeeds(html, pageUrl);
  if (feeds.length === 0) return `${pageUrl} is an HTML page, not a feed, and it advertises no feed; find the site's feed address and configure that`;
  const shown = feeds.slice(0, SHOWN_FEEDS).map((f) => (f.title ? `${f.url} ("${f.title}")` : f.url));
  const more = feeds.length > SHOWN_FEEDS ? ` and ${feeds.length - SHOWN_FEEDS} more` : '';
  return `${pageUrl} is an HTML page, not a feed; set this source's url to the feed it advertises: ${shown.join(', ')}${more}`;
}

/** The lowercase name of a document's first element, after any prolog, comments and doctype. */
function rootElement(text: string): string | undefined {
  const rest = text.replace(/^(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!doctype[^>]*>)*/i, '');
  return /^<([A-Za-z_][\w:.-]*)/.exec(rest)?.[1]?.toLowerCase();
}

function quote(text: string): string {
  const start = text.trim().slice(0, 60).replace(/\s+/g, ' ');
  return JSON.stringify(start);
}
