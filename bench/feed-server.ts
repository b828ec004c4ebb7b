// A synthetic feed server for benchmarks and drills, run in a child process so that it never shares
// an event loop with the code being measured. Feeds are spread over many loopback addresses
// (127.0.1.x) so that per-host limits apply as they would on the real web; it answers conditional
// requests with 304, can add latency, and can publish new items on every poll.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rssFeed, syntheticItem } from './synthetic.ts';

export interface FeedServerOptions {
  feeds: number;
  itemsPerFeed: number;
  latencyMs?: number;
  /** How many loopback addresses to spread the feeds over (default 1: 127.0.0.1 only). */
  hosts?: number;
  /** New items each feed publishes before every poll after its first (0: feeds never change). */
  freshPerPoll?: number;
}

export interface FeedServer {
  urls: string[];
  stats(): Promise<{ requests: number; notModified: number }>;
  stop(): Promise<void>;
}

function hostAddress(index: number, hosts: number): string {
  return hosts <= 1 ? '127.0.0.1' : `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

export async function startFeedServer(options: FeedServerOptions): Promise<FeedServer> {
  const child = fork(import.meta.filename, ['--serve', JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the feed server exited with ${code}`)));
  });
  const hosts = options.hosts ?? 1;
  const urls = Array.from({ length: options.feeds }, (_, i) => `http://${hostAddress(i % hosts, hosts)}:${port}/feed/${i}.xml`);
  return {
    urls,
    stats: () => request<{ requests: number; notModified: number }>(child, 'stats'),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

function request<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message: T) => resolve(message));
    child.send(what);
  });
}

async function serve(options: FeedServerOptions): Promise<void> {
  const hosts = options.hosts ?? 1;
  const top = new Int32Array(options.feeds).fill(options.itemsPerFeed);
  const served = new Uint8Array(options.feeds);
  let requests = 0;
  let notModified = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests++;
    const feed = Number(/^\/feed\/(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? -1);
    const respond = () => {
      if (!(feed >= 0 && feed < options.feeds)) return void res.writeHead(404).end();
      if (served[feed] && options.freshPerPoll) top[feed]! += options.freshPerPoll;
      served[feed] = 1;
      const etag = `"${feed}-${top[feed]}"`;
      if (req.headers['if-none-match'] === etag) {
        notModified++;
        return void res.writeHead(304, { etag }).end();
      }
      const items = Array.from({ length: options.itemsPerFeed }, (_, i) => syntheticItem(feed, top[feed]! - i, Date.UTC(2026, 10, 1) + top[feed]! * 60_000));
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag }).end(rssFeed(`Wire ${feed}`, items));
    };
    if (options.latencyMs) setTimeout(respond, options.latencyMs);
    else respond();
  };
  const servers = Array.from({ length: hosts }, () => http.createServer({ keepAliveTimeout: 30_000 }, handler));
  let port = 0;
  for (const [i, server] of servers.entries()) {
    await new Promise<void>((resolve) => server.listen(port, hostAddress(i, hosts), resolve));
    port = (server.address() as AddressInfo).port;
  }
  process.on('message', (message) => {
    if (message === 'stats') process.send!({ requests, notModified });
  });
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ port });
}

if (process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3]!) as FeedServerOptions);
