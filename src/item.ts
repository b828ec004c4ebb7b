// The data every stage agrees on: what a source kind yields (RawItem) and what the pipeline keeps (Item).

/** What a source kind (feed, html, json) turns bytes into, as the source wrote it. */
export interface RawItem {
  guid?: string | undefined;
  url?: string | undefined;
  title?: string | undefined;
  /** A short description (RSS description, Atom summary); HTML or plain text. */
  summary?: string | undefined;
  /** The full body (content:encoded, Atom content); HTML. */
  content?: string | undefined;
  author?: string | undefined;
  categories?: string[] | undefined;
  /** Dates as the source printed them; parsed during normalization. */
  published?: string | undefined;
  updated?: string | undefined;
  image?: string | undefined;
  /** Media files attached to the item (podcast audio, video, pictures), as the source listed them. */
  enclosures?: RawEnclosure[] | undefined;
  /** What relative links in the summary and content resolve against, when the document says (xml:base). */
  base?: string | undefined;
  /** Where the full body is fetched from when that is not the item's page (a JSON API's detail endpoint). */
  articleUrl?: string | undefined;
}

export interface RawEnclosure {
  url: string;
  /** MIME type, when the source gave one. */
  type?: string | undefined;
  /** Size in bytes, when the source gave one. */
  length?: number | undefined;
}

export interface Enclosure {
  url: string;
  type: string | null;
  length: number | null;
}

/** An item after normalization: absolute URLs, plain text, parsed dates, a fingerprint of its content. */
export interface Item {
  sourceId: string;
  guid: string | null;
  url: string | null;
  canonicalUrl: string | null;
  title: string;
  summaryHtml: string;
  contentHtml: string;
  /** Plain text of the summary and of the content, for tagging, search and dedup. */
  summaryText: string;
  contentText: string;
  author: string | null;
  categories: string[];
  /** Epoch milliseconds; null when the source gave no usable date. */
  publishedAt: number | null;
  updatedAt: number | null;
  language: string | null;
  /** The item's picture (absolute http(s) URL). */
  image: string | null;
  /** Media files attached to the item, absolute http(s) URLs; the picture may be one of them. */
  enclosures: Enclosure[];
  /** Changes whenever anything a subscriber sees changes. */
  contentHash: string;
}

/** The fields of an item that topic terms are matched in, in the order they are searched. */
export const TOPIC_FIELDS = ['title', 'summary', 'content', 'categories', 'author'] as const;
export type TopicField = (typeof TOPIC_FIELDS)[number];

/** Why an item was tagged with a topic: which term matched which words in which field. */
export interface TopicMatch {
  term: string;
  field: TopicField;
  matched: string;
  /** The referenced topic the term belongs to, when the tag came through a `topic:id` term. */
  via?: string;
}

export interface Tag {
  topic: string;
  matches: TopicMatch[];
}
