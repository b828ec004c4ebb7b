// Fetching the other pages a source needs besides its list (more pages of a JSON API, article pages),
// through fetchUrl with the source's own user agent, headers and the config's limits.
import type { Config, SourceConfig } from '../config/schema.ts';
import { FEED_ACCEPT, fetchUrl, type FetchResponse } from './fetch.ts';

export type FetchPage = (url: string, kind: 'feed' | 'html' | 'json') => Promise<FetchResponse>;

const ACCEPT = {
  feed: FEED_ACCEPT,
  html: 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5',
  json: 'application/json, */*;q=0.5',
};

export function pageFetcher(config: Config, source: SourceConfig, signal?: AbortSignal): FetchPage {
  return (url, kind) =>
    fetchUrl(url, {
      userAgent: source.user_agent ?? config.fetch.user_agent,
      accept: ACCEPT[kind],
      headers: source.headers,
      timeoutMs: config.fetch.timeout,
      maxBytes: config.fetch.max_bytes,
      maxRedirects: config.fetch.max_redirects,
      signal,
    });
}
