// A local HTTP server for tests: serves fixture bodies per path, answers conditional requests with 304
// when the ETag matches, and counts the requests it got. Routes can be changed between polls.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureRoute {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Handle the request yourself (slow servers, endless bodies, resets…). */
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export interface FixtureServer {
  url: string;
  routes: Map<string, FixtureRoute>;
  requests: { path: string; headers: http.IncomingHttpHeaders }[];
  set(path: string, route: FixtureRoute): void;
  close(): Promise<void>;
}

export async function startFixtureServer(host = '127.0.0.1'): Promise<FixtureServer> {
  const routes = new Map<string, FixtureRoute>();
  const requests: FixtureServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, headers: req.headers });
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (route.handler) {
      route.handler(req, res);
      return;
    }
    const body = route.body ?? '';
    const status = route.status ?? 200;
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/rss+xml; charset=utf-8', etag, ...route.headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    routes,
    requests,
    set: (path, route) => routes.set(path, route),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
