// The feed source kind: RSS 0.9x/1.0/2.0 and Atom text to RawItems, through rss-parser's parseString.
import Parser from 'rss-parser';
import type { RawItem } from '../item.ts';
import { stripIllegalXmlChars } from '../text/xml.ts';

export interface ParsedFeed {
  title: string | undefined;
  link: string | undefined;
  /** The feed's own <ttl> in minutes, a hint for scheduling. */
  ttlMinutes: number | undefined;
  items: RawItem[];
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
}

type ParserItem = Parser.Item & {
  id?: string;
  author?: string;
  summary?: string;
  updated?: string;
  'content:encoded'?: string;
  'dc:creator'?: string;
  'dc:date'?: string;
  'media:content'?: { $?: { url?: string; medium?: string } };
  'media:thumbnail'?: { $?: { url?: string } };
  categories?: unknown[];
  atomCategories?: unknown[];
};
type ParserFeed = { ttl?: string };

const parser: Parser<ParserFeed, ParserItem> = new Parser({
  customFields: {
    feed: ['ttl'],
    item: [
      'id',
      'updated',
      'summary',
      'dc:creator',
      'dc:date',
      'media:content',
      'media:thumbnail',
      // rss-parser reads RSS categories but not Atom's <category term label>.
      ['category', 'atomCategories', { keepArray: true }],
    ],
  },
});

const BARE_AMPERSAND = /&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#x[0-9a-fA-F]+);)/g;

export async function parseFeed(text: string): Promise<ParsedFeed> {
  const clean = stripIllegalXmlChars(text);
  let feed: Parser.Output<ParserItem> & ParserFeed;
  try {
    feed = await parser.parseString(clean);
  } catch (err) {
    // The most common breakage in the wild is a bare "&" (AT&T, ?a=1&b=2): escape those and try once more.
    const repaired = clean.replace(BARE_AMPERSAND, '&amp;');
    if (repaired === clean) throw new ParseError(describeParseFailure(text, err as Error));
    feed = await parser.parseString(repaired).catch(() => {
      throw new ParseError(describeParseFailure(text, err as Error));
    });
  }
  const ttl = Number(feed.ttl);
  return {
    title: feed.title?.trim() || undefined,
    link: feed.link,
    ttlMinutes: Number.isFinite(ttl) && ttl > 0 ? ttl : undefined,
    items: (feed.items ?? []).map(toRawItem),
  };
}

function toRawItem(item: ParserItem): RawItem {
  return {
    guid: text(item.guid) ?? text(item.id),
    url: text(item.link),
    title: text(item.title),
    summary: text(item.summary) ?? (item.content !== item['content:encoded'] ? text(item.content) : undefined),
    content: text(item['content:encoded']) ?? (item.summary ? text(item.content) : undefined),
    author: text(item.creator) ?? text(item['dc:creator']) ?? text(item.author),
    categories: (item.categories?.length ? item.categories : (item.atomCategories ?? [])).map(categoryName).filter((c): c is string => Boolean(c)),
    published: text(item.isoDate) ?? text(item.pubDate) ?? text(item['dc:date']),
    updated: text(item.updated),
    image: item.enclosure?.type?.startsWith('image/') || (item.enclosure && !item.enclosure.type) ? item.enclosure.url : (item['media:content']?.$?.url ?? item['media:thumbnail']?.$?.url),
  };
}

/** xml2js gives strings, or objects with the text under "_" when the element had attributes. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '_' in value) return text(value._);
  return undefined;
}

function categoryName(value: unknown): string | undefined {
  if (value && typeof value === 'object' && '$' in value) {
    const attrs = (value as { $: { term?: string; label?: string } }).$;
    return text(attrs.label) ?? text(attrs.term) ?? text(value);
  }
  return text(value);
}

function describeParseFailure(body: string, err: Error): string {
  const head = body.slice(0, 512).trimStart().toLowerCase();
  if (head.length === 0) return 'the response is empty';
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'the response is an HTML page, not a feed';
  if (!head.startsWith('<')) return 'the response is not XML';
  return `not a valid RSS or Atom feed: ${err.message.split('\n')[0]}`;
}
