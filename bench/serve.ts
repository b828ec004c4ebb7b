// Serving feeds from 1,000,000 stored items: requests per second and p99 latency for a 50-entry topic
// feed (cold render, cached 200, 304), idle and while ingestion runs, next to a bare node:http server
// holding the same bytes in memory (and nginx serving them as a file, when installed).
// Run: node bench/serve.ts   (ITEMS=100000 SECONDS=3 for a quicker, smaller run)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load.ts';
import { BackgroundThread } from '../src/background.ts';
import { pipelineOn } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext } from '../src/pipeline/ingest.ts';
import { workerPreparer } from '../src/pipeline/prepare.ts';
import { resolveFeed } from '../src/publish/feeds.ts';
import { parseFeedParams } from '../src/publish/params.ts';
import { startServer } from '../src/publish/server.ts';
import { feedBody } from '../src/publish/site.ts';
import type { Db } from '../src/store/sqlite/db.ts';
import { openStore } from '../src/store/store.ts';
import { fmt, freePort, runIfMain, type BenchResult, type Figure } from './lib.ts';
import { populatedConfigYaml, populatedStore, POPULATED_SOURCES, POPULATED_TOPICS } from './populate.ts';
import { runLoad, type LoadResult } from './support/load-client.ts';
import { connectionOf } from '../src/store/sqlite/store.ts';

const ITEMS = Number(process.env.ITEMS ?? 1_000_000);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 10;
const TOPICS = POPULATED_TOPICS;
const SOURCES = POPULATED_SOURCES;
const NGINX = '/usr/sbin/nginx';

const PARAGRAPH =
  'The talks covered energy supplies, transport corridors across the steppe and the security of the region’s borders. ' +
  'Officials said a joint statement would follow, and that working groups would meet again before the end of the month.';

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-serve-'));
  const feedServer = await startLiveFeed();
  const config = parseConfig(
    `
server: { host: 127.0.0.1, port: 0 }
storage: { path: ${JSON.stringify(path.join(dir, 'newsloom.db'))} }
${populatedConfigYaml(feedServer.url)}`,
    'bench.yaml',
    {},
  );
  const built = performance.now();
  await populatedStore(config.storage.path, ITEMS);
  const buildSeconds = (performance.now() - built) / 1000;
  // As the daemon runs: feeds prepared and the search index kept on the background thread.
  const background = new BackgroundThread();
  const store = await openStore(config.storage, { background });
  const children: ChildProcess[] = [];
  const servers: http.Server[] = [];
  try {
    await store.sources.sync(config.sources);
    const newsloom = await startServer({ config: () => config, store, log: silentLogger });
    const feedUrl = `${newsloom.url}/topics/t1.atom`;

    // Cold render, in process: the whole path from query to bytes, with no cache in front.
    const spec = resolveFeed(config, 'topics', 't1')!;
    const site = { config, store, baseUrl: newsloom.url, maxAgeSeconds: 60 };
    const renders: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 200; i++) {
      const parsed = parseFeedParams(config, spec, new URLSearchParams());
      if (!parsed.ok) throw new Error(parsed.message);
      const started = performance.now();
      bytes = Buffer.byteLength((await feedBody(site, parsed.request, 'atom')).body);
      renders.push(performance.now() - started);
    }
    renders.sort((a, b) => a - b);

    // Every source polled once, so that what a poll learns about a source (its site URL) is known before measuring.
    const pipeline = await pipelineOn(store, config, silentLogger);
    pipeline.preparer = workerPreparer(background);
    for (const source of config.sources) await pollSource(pipeline, source);
    const first = await fetchOnce(feedUrl);
    // More distinct pages than the render cache holds (64 MiB: some 800 of these), requested in turn: every request misses.
    const cursors = pageCursors(connectionOf(store), 5_000).map((c) => `${feedUrl}?cursor=${c}`);
    const bare = await startBare(first.body);
    servers.push(bare.server);
    const nginx = existsSync(NGINX) ? await startNginx(dir, first.body) : undefined;
    if (nginx) children.push(nginx.process);

    const load = (urls: string[], headers?: Record<string, string>) => runLoad({ urls, headers, connections: CONNECTIONS, durationSeconds: SECONDS });
    const scenarios = async () => ({
      cold: await load(cursors),
      cached: await load([feedUrl]),
      notModified: await load([feedUrl], { 'if-none-match': first.etag }),
    });
    const bareResult = await load([bare.url]);
    const nginxResult = nginx ? await load([nginx.url]) : undefined;
    const idle = await scenarios();
    const ingestion = startIngestion(pipeline);
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const busy = await scenarios();
    loopDelay.disable();
    const ingested = await ingestion.stop();
    const stillSame = await fetchOnce(feedUrl);
    await newsloom.close();

    const yard = { label: 'bare node:http, same bytes', value: bareResult.requestsPerSecond, unit: 'req/s' };
    const rate = (label: string, r: LoadResult, target?: number): Figure => ({
      label,
      value: r.requestsPerSecond,
      unit: 'req/s',
      ...(target === undefined ? {} : { target: `≥ ${fmt(target)} (half of bare node)`, ok: r.requestsPerSecond >= target, yardstick: yard }),
    });
    const p99 = (label: string, r: LoadResult, limit?: number): Figure => ({
      label,
      value: r.p99Ms,
      unit: 'ms',
      ...(limit === undefined ? {} : { target: `< ${limit} ms`, ok: r.p99Ms < limit }),
    });
    const half = bareResult.requestsPerSecond / 2;
    const errors = [bareResult, nginxResult, ...Object.values(idle), ...Object.values(busy)].reduce((n, r) => n + (r?.errors ?? 0) + (r?.statuses['5xx'] ?? 0), 0);
    return {
      name: `serve: a 50-entry topic feed (${fmt(bytes / 1024)} KB) from ${fmt(ITEMS)} stored items, ${CONNECTIONS} connections, ${SECONDS} s per load`,
      figures: [
        { label: `store built (${fmt(ITEMS)} items, batched inserts; 0 when cached)`, value: buildSeconds, unit: 's' },
        { label: 'cold render in process, median', value: renders[renders.length >> 1]!, unit: 'ms' },
        { label: 'cold render in process, p99', value: renders[Math.floor(renders.length * 0.99)]!, unit: 'ms', target: '< 20 ms', ok: renders[Math.floor(renders.length * 0.99)]! < 20 },
        rate('bare node:http (yardstick)', bareResult),
        ...(nginxResult ? [rate('nginx, 1 worker (yardstick)', nginxResult)] : []),
        rate('idle: cold render (a new page each request)', idle.cold),
        { label: 'idle: cold render p50', value: idle.cold.p50Ms, unit: 'ms' },
        p99('idle: cold render p99', idle.cold),
        rate('idle: cached 200', idle.cached, half),
        p99('idle: cached 200 p99', idle.cached),
        rate('idle: 304', idle.notModified, half),
        p99('idle: 304 p99', idle.notModified),
        rate('ingesting: cold render', busy.cold),
        { label: 'ingesting: cold render p50', value: busy.cold.p50Ms, unit: 'ms' },
        p99('ingesting: cold render p99', busy.cold, 20),
        rate('ingesting: cached 200', busy.cached, half),
        p99('ingesting: cached 200 p99', busy.cached, 20),
        rate('ingesting: 304', busy.notModified, half),
        p99('ingesting: 304 p99', busy.notModified, 20),
        { label: 'ingested meanwhile (real polls through the pipeline)', value: ingested, unit: 'items' },
        { label: 'event loop stall while ingesting, p99', value: loopDelay.percentile(99) / 1e6, unit: 'ms' },
        { label: 'event loop stall while ingesting, longest', value: loopDelay.max / 1e6, unit: 'ms' },
        { label: 'feed unchanged by ingestion (same ETag after)', value: stillSame.etag === first.etag ? 1 : 0, unit: 'yes=1', target: '= 1', ok: stillSame.etag === first.etag },
        { label: 'errors and 5xx across all loads', value: errors, unit: 'responses', target: '= 0', ok: errors === 0 },
      ],
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    for (const server of servers) server.close();
    await feedServer.close();
    await store.close();
    await background.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Inserts n items straight into the tables, 50,000 to a transaction; each item has one topic. */
/** Cursors into topic t1 at spread-out depths: each is a different page, so each request renders. */
function pageCursors(db: Db, count: number): string[] {
  const rows = db
    .prepare<[], { published_at: number; item_id: number }>(`SELECT published_at, item_id FROM item_topics WHERE topic_id = 't1' ORDER BY published_at DESC`)
    .all();
  const stride = Math.max(1, Math.floor(rows.length / count));
  return rows.filter((_, i) => i % stride === 0).map((r) => `${r.published_at.toString(36)}.${r.item_id.toString(36)}`);
}

/**
 * A local source whose feed, like a real one, lists its 50 latest items: each poll finds 10 new ones
 * (none in topic t1) and 40 it has seen. Ten sources polled every 250 ms make 40 new items a second.
 */
/**
 * The live items are dated from six hours before the run, a minute apart: recent enough to be stored (an item older than
 * retention.items keeps only its fingerprint on arrival, and a fixed date in the past once made this bench ingest none).
 */
const LIVE_EPOCH = Date.now() - 6 * 3_600_000;

async function startLiveFeed(): Promise<{ url: string; close(): Promise<void> }> {
  const polls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const poll = (polls.get(req.url ?? '') ?? 0) + 1;
    polls.set(req.url ?? '', poll);
    const items = Array.from({ length: 50 }, (_, k) => {
      const n = poll * 10 - k;
      const topic = 2 + (n % (TOPICS - 2));
      return `<item><title>Live report ${n} on word${topic}</title><link>https://live.example${req.url}/${n}</link><guid>live-${n}</guid>
<pubDate>${new Date(LIVE_EPOCH + n * 60_000).toUTCString()}</pubDate><description>&lt;p&gt;${PARAGRAPH}&lt;/p&gt;</description></item>`;
    });
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Live ${req.url}</title><link>https://live.example/</link>${items.join('')}</channel></rss>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Polls the sources one after another, every 250 ms, through the real pipeline, until stopped. */
function startIngestion(ctx: PipelineContext): { stop(): Promise<number> } {
  let stopped = false;
  let ingested = 0;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const result = await pollSource(ctx, ctx.config.sources[i % SOURCES]!);
      ingested += result.new;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return ingested;
    },
  };
}

async function fetchOnce(url: string): Promise<{ body: Buffer; etag: string }> {
  const response = await fetch(url);
  return { body: Buffer.from(await response.arrayBuffer()), etag: response.headers.get('etag') ?? '' };
}

async function startBare(body: Buffer): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.atom` };
}

/** nginx with one worker (as newsloom has one event loop), serving the same bytes as a static file. */
async function startNginx(dir: string, body: Buffer): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  writeFileSync(path.join(dir, 'feed.atom'), body);
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; types { application/atom+xml atom; }
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${dir}; location / { } } }`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/feed.atom`;
  for (let i = 0; i < 50; i++) {
    try {
      if ((await fetch(url)).ok) return { process: child, url };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error('nginx did not start');
}


await runIfMain(import.meta.url, run);
