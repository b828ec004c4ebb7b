// Which entries each public feed URL holds: an output, a topic, or a source, as a query on the store.
import type { Config } from '../config/schema.ts';
import type { ItemQuery } from '../store/items.ts';

export type FeedKind = 'feeds' | 'topics' | 'sources';

export interface FeedSpec {
  kind: FeedKind;
  id: string;
  /** The path without extension, e.g. /topics/kazakhstan */
  path: string;
  title: string;
  description: string | undefined;
  query: ItemQuery;
}

export const DEFAULT_LIMIT = 50;

export function resolveFeed(config: Config, kind: FeedKind, id: string): FeedSpec | undefined {
  const path = `/${kind}/${id}`;
  switch (kind) {
    case 'feeds': {
      const output = config.outputs.find((o) => o.id === id);
      return output && { kind, id, path, title: output.title, description: output.description, query: { topics: output.topics, sources: output.sources, limit: output.limit, everyItem: output.every_item } };
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

/** Every feed the server publishes, outputs first: for the index page. */
export function allFeeds(config: Config): FeedSpec[] {
  return [
    ...config.outputs.map((o) => resolveFeed(config, 'feeds', o.id)!),
    ...config.topics.map((t) => resolveFeed(config, 'topics', t.id)!),
    ...config.sources.map((s) => resolveFeed(config, 'sources', s.id)!),
  ];
}
