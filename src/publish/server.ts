// The HTTP server: feeds (Atom, RSS, JSON Feed) with URL filters and paging, search, the HTML pages of
// every feed and search, the index page, OPML, the feed stylesheet and health. Reads the store; never
// writes it. Every rendered response is cached until the store or the config changes (see cache.ts), so
// a reader polling every minute costs one hash-table lookup and, most often, a 304. The cache holds at
// most server.cache_size bytes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { OperatorError } from '../operator-error.ts';
import type { Store } from '../store/store.ts';
import { allowed, deny } from './access.ts';
import { RenderCache, rendered, RenderTurns, type Encoding, type Rendered } from './cache.ts';
import type { FeedFormat } from './document.ts';
import { resolveFeed, SEARCH, type FeedKind } from './feeds.ts';
import { publicBaseUrl } from './forwarded.ts';
import { chooseLang } from './language.ts';
import { PAGE_HEADERS } from './pages/chrome.ts';
import { parseBack, parseFeedParams } from './params.ts';
import { respond } from './respond.ts';
import { EntryCounts, feedBody, indexBody, opmlBody, pageBody, searchErrorBody, SourceStates, type Site } from './site.ts';
import { sourceStatus } from './status.ts';
import { STYLESHEET, STYLESHEET_TYPE } from './stylesheet.ts';

export interface ServerContext {
  /** The config in force; a getter, because a reload replaces it. */
  config: () => Config;
  store: Store;
  log: Logger;
  /** Sees every request first and answers it (returning true) or leaves it to the routes: /readyz, /metrics, request counts. */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Serve only the operators' endpoints (/healthz, /status; /readyz and /metrics come through intercept): a poller's server. */
  opsOnly?: boolean;
}

/** A response that is not a cached resource: errors and health. */
interface Plain {
  status: number;
  body: string;
  headers?: http.OutgoingHttpHeaders;
}

type Outcome = { resource: Rendered; headers?: http.OutgoingHttpHeaders } | Plain;

const FEED_PATH = /^\/(?:(feeds|topics|sources)\/([a-z0-9][a-z0-9_-]*)|(search))\.(atom|rss|json|html)$/;

const STATIC_STYLESHEET = rendered({ type: STYLESHEET_TYPE, body: STYLESHEET, lastModified: Date.now() });
const CORS = { 'access-control-allow-origin': '*' };

export function createHandler(ctx: ServerContext): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  // One render at a time on SQLite (they never wait for I/O), as many as the pool has connections on PostgreSQL.
  const turns = new RenderTurns(() => {
    const { storage } = ctx.config();
    return storage.url ? storage.pool : 1;
  });
  const cache = new RenderCache(() => ctx.config().server.cache_size, turns);
  const counts = new EntryCounts();
  const sourceStates = new SourceStates();

  const route = async (method: string, url: URL, headers: http.IncomingHttpHeaders): Promise<Outcome> => {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'only GET and HEAD are supported\n', headers: { allow: 'GET, HEAD' } };
    if (url.pathname === '/healthz') return { status: 200, body: '{"status":"ok"}\n', headers: { 'content-type': 'application/json' } };
    const config = ctx.config();
    if (url.pathname === '/status') {
      // search: whether every stored item is searchable yet, and how many changes the index has still to take in.
      const body = `${JSON.stringify({ sources: sourceStatus(config, await ctx.store.sources.health()), search: await ctx.store.search.progress() }, null, 2)}\n`;
      return { status: 200, body, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' } };
    }
    if (ctx.opsOnly) {
      return { status: 404, body: `no ${url.pathname} here: this newsloom is a poller (--role poller), serving /healthz, /readyz, /metrics and /status; feeds and pages come from --role web or all\n` };
    }
    const baseUrl = publicBaseUrl(config, headers);
    if (!baseUrl) return { status: 400, body: 'the Host header is missing or malformed\n' };
    const generation = await ctx.store.generation();
    const site: Site = { config, store: ctx.store, baseUrl, maxAgeSeconds: maxAge(config), search: generation.search, counts, sourceStates };
    // Pages speak the reader's language (English or Russian): one cached copy of each.
    const lang = chooseLang(headers['accept-language']);
    const pageHeaders = { ...PAGE_HEADERS, vary: 'Accept-Language, Accept-Encoding', 'content-language': lang };

    if (url.pathname === '/feed.xsl') return { resource: STATIC_STYLESHEET };
    if (url.pathname === '/' || url.pathname === '/index.html') {
      // The page says how far a build of the search index has come: it changes with the index too.
      return { resource: await cache.get(`${site.baseUrl} / ${lang} ${generation.search}`, generation.feeds + generation.health, config, () => indexBody(site, lang)), headers: pageHeaders };
    }
    if (url.pathname === '/feeds.opml') return { resource: await cache.get(`${site.baseUrl} /feeds.opml`, 0, config, () => opmlBody(site)), headers: CORS };

    const match = FEED_PATH.exec(url.pathname);
    const spec = match && (match[3] ? SEARCH : resolveFeed(config, match[1] as FeedKind, match[2]!));
    if (!match || !spec) return { status: 404, body: `no feed or page at ${url.pathname}\n` };
    const format = match[4] as FeedFormat | 'html';
    const parsed = parseFeedParams(config, spec, url.searchParams);
    if (format === 'html') {
      const back = parseBack(url.searchParams);
      if (!parsed.ok || back instanceof Error) {
        const problem = parsed.ok ? (back as Error).message : parsed.message;
        // A search a person typed gets its page back, saying what is wrong; other pages only take parameters links made.
        if (spec.kind !== 'search') return { status: 400, body: `${problem}\n` };
        const page = searchErrorBody(site, { lang, back: [] }, url.searchParams.get('q') ?? undefined, problem);
        return { status: 400, body: page.body, headers: { ...pageHeaders, 'content-type': page.type } };
      }
      const { request } = parsed;
      const view = { lang, back };
      const key = `${site.baseUrl} ${spec.path}.html ${lang}?${new URLSearchParams(request.params).toString()}&cursor=${request.cursor ?? ''}&back=${view.back.join(',')}`;
      const resource = await cache.get(request.query.search ? `${key} ${generation.search}` : key, generation.feeds, config, () => pageBody(site, request, view));
      return { resource, headers: pageHeaders };
    }
    if (!parsed.ok) return { status: 400, body: `${parsed.message}\n` };
    const { request } = parsed;
    const key = `${site.baseUrl} ${spec.path}.${format}?${new URLSearchParams(request.params).toString()}&cursor=${request.cursor ?? ''}`;
    // A search shows what the index holds, which the background thread moves after the items' own commits.
    const resource = await cache.get(request.query.search ? `${key} ${generation.search}` : key, generation.feeds, config, () => feedBody(site, request, format));
    // Browsers show application/atom+xml and application/rss+xml as plain text; labelled as XML, the same
    // bytes are rendered through the stylesheet. Feed readers do not ask for text/html and get the feed's own type.
    const browser = format !== 'json' && headers.accept?.includes('text/html');
    return { resource, headers: { ...CORS, vary: 'Accept, Accept-Encoding', ...(browser ? { 'content-type': 'application/xml; charset=utf-8' } : {}) } };
  };

  const compress = (resource: Rendered, encoding: Encoding) => cache.encode(resource, encoding);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = performance.now();
    let status: number;
    try {
      const outcome = await route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost'), req.headers);
      if ('resource' in outcome) {
        respond(req, res, outcome.resource, maxAge(ctx.config()), outcome.headers, compress);
      } else {
        res.writeHead(outcome.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(outcome.body), 'cache-control': 'no-store', ...outcome.headers });
        res.end(req.method === 'HEAD' ? undefined : outcome.body);
      }
      status = res.statusCode;
    } catch (err) {
      ctx.log.error({ err, url: req.url }, 'request failed');
      status = 500;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    }
    ctx.log.debug({ method: req.method, url: req.url, status, ms: Math.round(performance.now() - started) }, 'request');
  };

  return (req, res) => {
    if (!allowed(ctx.config(), req)) return deny(ctx.config(), res);
    if (!ctx.intercept?.(req, res)) void handle(req, res);
  };
}

function maxAge(config: Config): number {
  return Math.round(config.server.cache_max_age / 1000);
}

export interface RunningServer {
  server: http.Server;
  /** Where to reach it from this machine (127.0.0.1 for a server listening on every address). */
  url: string;
  /** The address and port it actually listens on ("0.0.0.0:8080", "[::1]:41235"). */
  listening: string;
  close(): Promise<void>;
}

export async function startServer(ctx: ServerContext): Promise<RunningServer> {
  const server = http.createServer(createHandler(ctx));
  server.keepAliveTimeout = 65_000;
  const { host, port } = ctx.config().server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost === '[::]' ? '[::1]' : shownHost}:${address.port}`,
    listening: `${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** Why the server cannot listen, in words that say which setting to change. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const because = `(${err.code ?? err.message})`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new OperatorError(`port ${port} is in use: set server.port or NEWSLOOM_PORT ${because}`, { cause: err });
    case 'EACCES':
      return new OperatorError(`port ${port} needs privileges here: use a port above 1023 (server.port or NEWSLOOM_PORT) ${because}`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new OperatorError(`cannot listen on ${host}: it is not an address of this machine; set server.host or NEWSLOOM_HOST (0.0.0.0 listens on every address) ${because}`, { cause: err });
    default:
      return err;
  }
}
