// `npm run drill`: reliability drills, each ending in one PASS/FAIL line with its figures.
//   soak     1,000 feeds with new items every poll for 30 minutes: memory and event-loop lag over time
//   kill     SIGKILL the daemon at random moments during ingestion; restart; integrity, no duplicates, no gaps
//   hostile  hostile sources mixed with healthy ones: every healthy one ingests, memory stays bounded
//   storage  the database's disk fills up or turns read-only: a clear error, and recovery afterwards
//   standby  PostgreSQL with a hot standby (pg_basebackup): a web replica on the standby serves within 2 s (bench/standby.ts)
// Options: --only soak,kill  --soak-minutes 30
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { parseConfig } from '../src/config/load.ts';
import { startDaemon } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource } from '../src/pipeline/ingest.ts';
import { pollOnce } from '../src/scheduler/scheduler.ts';
import { startFeedServer } from './feed-server.ts';
import { DAEMON_NODE_FLAGS, freePort, withDaemonFlags } from './lib.ts';
import { benchConfigYaml } from './setup.ts';
import { standbyDrill } from './standby.ts';

interface DrillResult {
  name: string;
  pass: boolean;
  figures: string;
}

const CLI = path.join(import.meta.dirname, '../src/cli.ts');
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;

function tempDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `newsloom-drill-${name}-`));
}

/** Soak: the daemon as operators run it, with every feed publishing on every poll. */
async function soak(minutes: number): Promise<DrillResult> {
  const feeds = 1_000;
  const server = await startFeedServer({ feeds, itemsPerFeed: 20, hosts: 50, latencyMs: 20, freshPerPoll: 1 });
  const dir = tempDir('soak');
  const config = parseConfig(benchConfigYaml(server.urls, { dir, every: '1m', concurrency: 16 }), 'soak.yaml', {});
  const daemon = await startDaemon(config, silentLogger);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const samples: { minute: number; heapMB: number; rssMB: number; lagP99: number; lagMax: number; items: number }[] = [];
  const started = Date.now();
  try {
    while (Date.now() - started < minutes * 60_000) {
      await sleep(Math.min(30_000, minutes * 60_000 / 4));
      gc?.();
      const memory = process.memoryUsage();
      samples.push({
        minute: (Date.now() - started) / 60_000,
        heapMB: memory.heapUsed / MB,
        rssMB: memory.rss / MB,
        lagP99: lag.percentile(99) / 1e6,
        lagMax: lag.max / 1e6,
        items: await daemon.context.store.items.count(),
      });
      lag.reset();
      const s = samples.at(-1)!;
      process.stderr.write(`  soak ${s.minute.toFixed(1)} min: heap ${s.heapMB.toFixed(1)} MB, rss ${s.rssMB.toFixed(0)} MB, lag p99 ${s.lagP99.toFixed(1)} ms (max ${s.lagMax.toFixed(0)}), ${s.items} items\n`);
    }
  } finally {
    lag.disable();
    await daemon.stop(5_000);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // After the first third (caches and pools warmed up), heap in use must stay flat.
  const settled = samples.slice(Math.floor(samples.length / 3));
  const growth = settled.length > 1 ? settled.at(-1)!.heapMB - settled[0]!.heapMB : 0;
  const worstP99 = Math.max(...samples.map((s) => s.lagP99));
  const items = samples.at(-1)?.items ?? 0;
  const pass = growth < 16 && worstP99 < 100 && items > feeds * 20;
  return {
    name: 'soak',
    pass,
    figures: `${minutes} min, ${feeds} feeds, ${items} items stored; heap after warm-up ${settled[0]?.heapMB.toFixed(1)} → ${settled.at(-1)?.heapMB.toFixed(1)} MB (growth ${growth.toFixed(1)} MB, limit 16); event-loop lag p99 worst ${worstP99.toFixed(1)} ms (limit 100); rss max ${Math.max(...samples.map((s) => s.rssMB)).toFixed(0)} MB`,
  };
}

/** Kill: SIGKILL at random moments during heavy ingestion, then check what survived. */
async function kill(rounds = 6): Promise<DrillResult> {
  const feeds = 200;
  const server = await startFeedServer({ feeds, itemsPerFeed: 50, hosts: 20, freshPerPoll: 5 });
  const dir = tempDir('kill');
  const port = await freePort();
  const configFile = path.join(dir, 'newsloom.yaml');
  writeFileSync(configFile, benchConfigYaml(server.urls, { dir, port, every: '1s', concurrency: 16 }));
  const run = () => spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', configFile], { stdio: 'ignore' });
  try {
    for (let round = 0; round < rounds; round++) {
      const child = run();
      await sleep(800 + Math.random() * 2_500);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const last = run();
    await sleep(4_000);
    last.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => last.once('exit', resolve));
    const db = new Database(path.join(dir, 'newsloom.db'), { readonly: true });
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const duplicates = (db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM items GROUP BY source_id, guid HAVING count(*) > 1)`).get() as { n: number }).n;
    const rows = db.prepare(`SELECT source_id AS source, guid FROM items`).all() as { source: string; guid: string }[];
    db.close();
    // Each feed numbers its items; a poll lost to a kill would leave a hole in a source's numbers.
    const bySource = new Map<string, number[]>();
    for (const row of rows) {
      const list = bySource.get(row.source) ?? [];
      list.push(Number(/\/(\d+)$/.exec(row.guid)![1]));
      bySource.set(row.source, list);
    }
    let gaps = 0;
    for (const numbers of bySource.values()) gaps += Math.max(...numbers) - Math.min(...numbers) + 1 - new Set(numbers).size;
    const pass = integrity === 'ok' && duplicates === 0 && gaps === 0 && bySource.size === feeds && code === 0;
    return {
      name: 'kill',
      pass,
      figures: `${rounds} SIGKILLs during ingestion, then a clean stop (exit ${code}); ${rows.length} items from ${bySource.size}/${feeds} sources; integrity_check: ${integrity}; duplicates: ${duplicates}; items missing between first and last seen: ${gaps}`,
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A server of misbehaving endpoints. */
/** Each misbehaving endpoint on a loopback address of its own, so that one host's Retry-After does not colour the others. */
async function startHostile(): Promise<{ urlOf: (name: string) => string; close: () => Promise<void> }> {
  const bomb = zlib.gzipSync(Buffer.alloc(512 * MB), { level: 9 });
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    switch (req.url) {
      case '/drip':
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        res.write('<');
        return void setInterval(() => res.write(' '), 1_000).unref();
      case '/hang':
        return;
      case '/endless': {
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        return pump();
      }
      case '/bomb':
        return void res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' }).end(bomb);
      case '/loop':
        return void res.writeHead(302, { location: '/loop2' }).end();
      case '/loop2':
        return void res.writeHead(302, { location: '/loop' }).end();
      case '/500':
        return void res.writeHead(500).end('oops');
      case '/429':
        return void res.writeHead(429, { 'retry-after': '120' }).end();
      case '/garbage':
        return void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
      case '/html':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/real.xml"></head><body>hi</body></html>');
      default:
        return void res.writeHead(404).end();
    }
  };
  const servers = await Promise.all(
    HOSTILE.map(async (_, i) => {
      const server = http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, `127.0.2.${i + 1}`, resolve));
      return server;
    }),
  );
  return {
    urlOf: (name) => {
      const i = HOSTILE.indexOf(name);
      return `http://127.0.2.${i + 1}:${(servers[i]!.address() as AddressInfo).port}/${name}`;
    },
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      ).then(() => undefined),
  };
}

const HOSTILE = ['drip', 'hang', 'endless', 'bomb', 'loop', '500', '429', 'garbage', 'html'];

async function hostile(): Promise<DrillResult> {
  const healthy = await startFeedServer({ feeds: 60, itemsPerFeed: 50, hosts: 10 });
  const bad = await startHostile();
  const dir = tempDir('hostile');
  const urls = [...healthy.urls, ...HOSTILE.map((h) => bad.urlOf(h))];
  const config = parseConfig(benchConfigYaml(urls, { dir, concurrency: 16 }).replace('fetch: {', 'fetch: { timeout: 5s,'), 'hostile.yaml', {});
  const daemon = await startDaemon(config, silentLogger, { schedule: false });
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const results = await pollOnce(config.sources, (source) => pollSource(daemon.context, source));
    clearInterval(sampler);
    const healthyOk = results.slice(0, healthy.urls.length).filter((r) => r.status === 'ok' && r.new === 50).length;
    const hostileResults = results.slice(healthy.urls.length);
    const served = (await fetch(`${daemon.url}/healthz`)).status;
    const growth = (peak - rssBefore) / MB;
    const kinds = hostileResults.map((r, i) => `${HOSTILE[i]}→${r.error?.kind ?? r.status}`).join(', ');
    const pass = healthyOk === healthy.urls.length && hostileResults.every((r) => r.status === 'error') && served === 200 && growth < 150;
    return {
      name: 'hostile',
      pass,
      figures: `${healthyOk}/${healthy.urls.length} healthy feeds ingested; hostile: ${kinds}; peak RSS growth ${growth.toFixed(0)} MB (limit 150; the gzip bomb inflates to 512 MB); server answered ${served}`,
    };
  } finally {
    clearInterval(sampler);
    await daemon.stop(2_000);
    await healthy.stop();
    await bad.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Storage: a small filesystem for the database that fills up, then turns read-only, then recovers. */
async function storage(): Promise<DrillResult> {
  const mount = tempDir('storage');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    rmSync(mount, { recursive: true, force: true });
    return { name: 'storage', pass: true, figures: 'SKIPPED: mounting a small tmpfs needs root (the drill needs a filesystem it can fill)' };
  }
  const server = await startFeedServer({ feeds: 20, itemsPerFeed: 50, freshPerPoll: 20 });
  const dir = path.join(mount, 'data');
  mkdirSync(dir);
  const config = parseConfig(benchConfigYaml(server.urls, { dir, concurrency: 4 }), 'storage.yaml', {});
  const daemon = await startDaemon(config, silentLogger, { schedule: false });
  const pollAll = () => pollOnce(config.sources, (source) => pollSource(daemon.context, source));
  const filler = path.join(mount, 'filler');
  try {
    const first = await pollAll();
    const okFirst = first.filter((r) => r.status === 'ok').length;
    // Fill the filesystem to the last byte.
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(64 * 1024);
    try {
      for (;;) writeSync(fd, block);
    } catch {
      /* ENOSPC: full */
    }
    try {
      for (;;) writeSync(fd, Buffer.alloc(512));
    } catch {
      /* ENOSPC: to the last block */
    }
    closeSync(fd);
    const full = await pollAll();
    const fullErrors = full.filter((r) => r.status === 'error');
    const fullMessage = fullErrors[0]?.error ? `${fullErrors[0].error.kind}: ${fullErrors[0].error.message}` : 'no error';
    const aliveWhenFull = (await fetch(`${daemon.url}/healthz`)).status;
    rmSync(filler);
    const recovered = await pollAll();
    const okRecovered = recovered.filter((r) => r.status === 'ok' && r.new > 0).length;
    // A volume that comes back read-only: the daemon must refuse to start with a clear error, not crash later.
    await daemon.stop(2_000);
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    const roMessage = await startDaemon(config, silentLogger, { schedule: false }).then(
      async (d) => {
        await d.stop(1_000);
        return 'started anyway';
      },
      (err: unknown) => (err as Error).message,
    );
    execFileSync('mount', ['-o', 'remount,rw', mount]);
    const again = await startDaemon(config, silentLogger, { schedule: false });
    const back = await pollOnce(config.sources, (source) => pollSource(again.context, source));
    const okBack = back.filter((r) => r.status === 'ok' && r.new > 0).length;
    const servedAgain = (await fetch(`${again.url}/feeds/both.atom`)).status;
    await again.stop(2_000);
    const pass =
      okFirst === 20 && fullErrors.length > 0 && /disk|full|space/i.test(fullMessage) && aliveWhenFull === 200 && okRecovered === 20 &&
      /read-only/i.test(roMessage) && okBack === 20 && servedAgain === 200;
    return {
      name: 'storage',
      pass,
      figures: `disk full → ${fullErrors.length}/20 polls failed with "${fullMessage}", server ${aliveWhenFull}; space back → ${okRecovered}/20 ingest; start on a read-only volume → "${roMessage}"; writable again → ${okBack}/20 ingest, feeds ${servedAgain}`,
    };
  } finally {
    await daemon.stop(2_000).catch(() => undefined);
    await server.stop();
    try {
      execFileSync('umount', ['-l', mount]);
    } catch {
      /* already gone */
    }
    rmSync(mount, { recursive: true, force: true });
  }
}

// The soak runs the pipeline in this process: with the daemon's heap flags, as the daemon would.
withDaemonFlags();
const { values } = parseArgs({ options: { only: { type: 'string' }, 'soak-minutes': { type: 'string' } } });
const names = values.only ? values.only.split(',') : ['kill', 'hostile', 'storage', 'standby', 'soak'];
const drills: Record<string, () => Promise<DrillResult>> = {
  soak: () => soak(Number(values['soak-minutes'] ?? 30)),
  kill: () => kill(),
  hostile,
  storage,
  standby: standbyDrill,
};
let failed = 0;
for (const name of names) {
  const drill = drills[name];
  if (!drill) throw new Error(`unknown drill ${name} (known: ${Object.keys(drills).join(', ')})`);
  process.stderr.write(`drill ${name}…\n`);
  const result = await drill().catch((err: unknown): DrillResult => ({ name, pass: false, figures: `crashed: ${(err as Error).stack ?? String(err)}` }));
  if (!result.pass) failed++;
  console.log(`${result.pass ? 'PASS' : 'FAIL'} ${result.name}: ${result.figures}`);
}
console.log(`drills: ${names.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
