// Fetching the other pages a source needs besides its list (more pages of a JSON API, article pages),
// through fetchUrl with the source's own user agent, headers and the config's limits.
import type { Config, SourceConfig } from '../config/schema.ts';
import { sourceHeaders } from './auth.ts';
import { FEED_ACCEPT, fetchUrl, type FetchOptions, type FetchResponse } from './fetch.ts';
import type { HostLimiter } from './hosts.ts';

export type FetchPage = (url: string, kind: 'feed' | 'html' | 'json') => Promise<FetchResponse>;

const ACCEPT = {
  feed: FEED_ACCEPT,
  html: 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5',
  json: 'application/json, */*;q=0.5',
};

/** How every request of a source is made: its user agent, headers and credentials, the config's limits, the host limiter. */
export function sourceFetchOptions(config: Config, source: SourceConfig, context: { signal?: AbortSignal | undefined; hosts?: HostLimiter | undefined }): FetchOptions {
  return {
    userAgent: source.user_agent ?? config.fetch.user_agent,
    headers: sourceHeaders(source),
    timeoutMs: config.fetch.timeout,
    connectTimeoutMs: config.fetch.connect_timeout,
    maxBytes: config.fetch.max_bytes,
    maxRedirects: config.fetch.max_redirects,
    signal: context.signal,
    hosts: context.hosts,
  };
}

export function pageFetcher(config: Config, source: SourceConfig, context: { signal?: AbortSignal | undefined; hosts?: HostLimiter | undefined } = {}): FetchPage {
  const options = sourceFetchOptions(config, source, context);
  return (url, kind) => fetchUrl(url, { ...options, accept: ACCEPT[kind] });
}
