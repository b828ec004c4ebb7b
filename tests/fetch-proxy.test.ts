// Fetching through the HTTP proxy of HTTP_PROXY / HTTPS_PROXY (minus NO_PROXY), as company networks require, and
// reading deflate bodies whether the server wrapped them in zlib or sent them raw.
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchError, fetchUrl, type FetchOptions } from '../src/sources/fetch.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const OPTIONS: FetchOptions = { userAgent: 'newsloom-test', timeoutMs: 10_000, connectTimeoutMs: 10_000, maxBytes: 1 << 20, maxRedirects: 2 };
const FEED = '<rss version="2.0"><channel><title>Через прокси</title></channel></rss>';

/** A forward proxy on loopback that records what it was asked for: absolute URLs, and CONNECT tunnels. */
async function startProxy(): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const proxy = http.createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    const target = new URL(req.url!);
    const upstream = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    asked.push(`CONNECT ${req.url}`);
    const [host, port] = req.url!.split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    asked,
    close: () => new Promise((resolve) => {
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
}

describe('fetching', () => {
  let server: FixtureServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = await startFixtureServer();
    proxy = await startProxy();
    // Read at the first request of this test file's module graph.
    Object.assign(process.env, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' });
  });

  afterAll(async () => {
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await proxy.close();
    await server.close();
  });

  it('goes through the proxy of HTTP_PROXY, and straight to the hosts of NO_PROXY', async () => {
    server.set('/feed.xml', { body: FEED, headers: { 'content-type': 'application/rss+xml' } });
    const proxied = await fetchUrl(`${server.url}/feed.xml`, OPTIONS);
    expect(proxied.body.toString()).toBe(FEED);
    expect(proxy.asked).toEqual([`GET ${server.url}/feed.xml`]);
    const direct = await fetchUrl(`${server.url.replace('127.0.0.1', 'localhost')}/feed.xml`, OPTIONS);
    expect(direct.body.toString()).toBe(FEED);
    expect(proxy.asked).toHaveLength(1);
  });

  it('opens a CONNECT tunnel through the proxy of HTTPS_PROXY for https sources', async () => {
    // Not a TLS server: the handshake fails, but only after the proxy opened the tunnel to it.
    const port = Number(new URL(server.url).port);
    const failed = await fetchUrl(`https://127.0.0.1:${port}/feed.xml`, OPTIONS).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(FetchError);
    expect(proxy.asked).toContain(`CONNECT 127.0.0.1:${port}`);
  });

  it('reads a deflate body, zlib-wrapped as the standard says or raw as many servers send it', async () => {
    server.set('/zlib.xml', { body: zlib.deflateSync(FEED), headers: { 'content-encoding': 'deflate' } });
    server.set('/raw.xml', { body: zlib.deflateRawSync(FEED), headers: { 'content-encoding': 'deflate' } });
    const host = server.url.replace('127.0.0.1', 'localhost');
    expect((await fetchUrl(`${host}/zlib.xml`, OPTIONS)).body.toString()).toBe(FEED);
    expect((await fetchUrl(`${host}/raw.xml`, OPTIONS)).body.toString()).toBe(FEED);
  });
});
