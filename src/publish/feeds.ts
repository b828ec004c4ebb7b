// Which entries each public feed URL holds: an output, a topic, a source or a search, as a query on the store.
import type { Config, OutputConfig } from '../config/schema.ts';
import type { ItemQuery } from '../store/store.ts';

export type FeedKind = 'feeds' | 'topics' | 'sources';

export interface FeedSpec {
  kind: FeedKind | 'search';
  id: string;
  /** The path without extension, e.g. /topics/kazakhstan */
  path: string;
  title: string;
  description: string | undefined;
  /** The entries before any URL parameter narrows them; limit is the feed's default page size. */
  query: ItemQuery;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export function resolveFeed(config: Config, kind: FeedKind, id: string): FeedSpec | undefined {
  const path = `/${kind}/${id}`;
  switch (kind) {
    case 'feeds': {
      const output = config.outputs.find((o) => o.id === id);
      if (!output) return undefined;
      const topics = outputTopics(output);
      const query = { topics: topics.any, allTopics: topics.all, notTopics: topics.not, sources: output.sources, limit: output.limit, everyItem: output.every_item };
      return { kind, id, path, title: output.title, description: output.description, query };
    }
    case 'topics': {
      const topic = config.topics.find((t) => t.id === id);
      return topic && { kind, id, path, title: topic.title ?? topic.id, description: topic.description, query: { topics: [id], limit: DEFAULT_LIMIT } };
    }
    case 'sources': {
      const source = config.sources.find((s) => s.id === id);
      return source && { kind, id, path, title: source.title ?? source.id, description: undefined, query: { sources: [id], limit: DEFAULT_LIMIT } };
    }
  }
}

/** Search over every item; the URL's q, topic, source and since parameters narrow it (see params.ts). */
export const SEARCH: FeedSpec = { kind: 'search', id: 'search', path: '/search', title: 'newsloom search', description: undefined, query: { limit: DEFAULT_LIMIT } };

/** Every feed the server publishes, outputs first: for the index page, OPML and the static export. */
export function allFeeds(config: Config): FeedSpec[] {
  return [
    ...config.outputs.map((o) => resolveFeed(config, 'feeds', o.id)!),
    ...config.topics.map((t) => resolveFeed(config, 'topics', t.id)!),
    ...config.sources.map((s) => resolveFeed(config, 'sources', s.id)!),
  ];
}

/** An output's topic filter in its full form, whichever way the config wrote it. */
export function outputTopics(output: OutputConfig): { any: string[]; all: string[]; not: string[] } {
  return Array.isArray(output.topics) ? { any: output.topics, all: [], not: [] } : output.topics;
}
