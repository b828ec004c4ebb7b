// The HTTP server: output feeds, the index page and health. Reads the store; never writes it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { renderAtom } from './atom.ts';
import { resolveFeed, type FeedKind } from './feeds.ts';
import { renderIndex } from './index-page.ts';
import { sourceStatus } from './status.ts';

export interface ServerContext {
  /** The config in force; a getter, because a reload replaces it. */
  config: () => Config;
  store: Store;
  log: Logger;
  /** Sees every request first and may answer it (operations: /readyz, /metrics, request counts; see ops.ts). */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const FEED_PATH = /^\/(feeds|topics|sources)\/([a-z0-9][a-z0-9_-]*)\.atom$/;

export function route(ctx: ServerContext, method: string, url: URL, baseUrl: string): Reply {
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, type: 'text/plain; charset=utf-8', body: 'only GET and HEAD are supported\n', headers: { allow: 'GET, HEAD' } };
  }
  const config = ctx.config();
  if (url.pathname === '/healthz') return { status: 200, type: 'application/json', body: '{"status":"ok"}\n' };
  if (url.pathname === '/status') {
    const body = `${JSON.stringify({ sources: sourceStatus(config, ctx.store.sources.health()) }, null, 2)}\n`;
    return { status: 200, type: 'application/json; charset=utf-8', body, headers: { 'cache-control': 'no-cache' } };
  }
  if (url.pathname === '/') return { status: 200, type: 'text/html; charset=utf-8', body: renderIndex(config, ctx.store.sources.health(), baseUrl) };
  const feedPath = FEED_PATH.exec(url.pathname);
  if (feedPath) {
    const spec = resolveFeed(config, feedPath[1] as FeedKind, feedPath[2]!);
    if (spec) {
      const items = ctx.store.items.list(spec.query);
      return { status: 200, type: 'application/atom+xml; charset=utf-8', body: renderAtom(config, spec, items, baseUrl) };
    }
  }
  return { status: 404, type: 'text/plain; charset=utf-8', body: `no feed or page at ${url.pathname}\n` };
}

export interface RunningServer {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(ctx: ServerContext): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    if (ctx.intercept?.(req, res)) return;
    const started = performance.now();
    let reply: Reply;
    const host = req.headers.host ?? 'localhost';
    const configured = ctx.config().server.base_url?.replace(/\/+$/, '');
    try {
      const url = new URL(req.url ?? '/', `http://${host}`);
      reply = route(ctx, req.method ?? 'GET', url, configured ?? `http://${host}`);
    } catch (err) {
      ctx.log.error({ err, url: req.url }, 'request failed');
      reply = { status: 500, type: 'text/plain; charset=utf-8', body: 'internal error\n' };
    }
    res.writeHead(reply.status, { 'content-type': reply.type, 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
    ctx.log.debug({ method: req.method, url: req.url, status: reply.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  server.keepAliveTimeout = 65_000;
  const { host, port } = ctx.config().server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
