// The standby drill (`npm run drill -- --only standby`): newsloom on PostgreSQL with a hot standby, as an operator
// would keep one for availability. Two throwaway local clusters: a primary, and a standby made from it with
// pg_basebackup and streaming replication. A newsloom daemon polls feeds into the primary; a web replica
// (`--role web`) serves from the standby, read-only, where LISTEN cannot run, so it learns of changes by polling the
// change counter. The figure that matters: how long after an item is committed on the primary the replica on the
// standby serves it (target: within 2 s). Needs the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) and a
// user `postgres` to run them as; without them it says so and skips.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './lib.ts';

export interface DrillResult {
  name: string;
  pass: boolean;
  figures: string;
}

const CLI = path.join(import.meta.dirname, '../src/cli.ts');
const LAG_TARGET_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where Debian (and most packages) keep the server binaries: the newest version installed. */
function serverBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = execFileSync('ls', [root], { encoding: 'utf8' }).split('\n').filter(Boolean).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) if (existsSync(path.join(root, version, 'bin', 'pg_basebackup'))) return path.join(root, version, 'bin');
  return undefined;
}

/** Runs a server binary as the postgres user (the server refuses to run as root). */
function asPostgres(bin: string, tool: string, args: string[]): string {
  const command = path.join(bin, tool);
  if (userInfo().uid !== 0) return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function psql(port: number, database: string, sql: string): string {
  return execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-X', '-q', '-t', '-A', '-c', sql], { encoding: 'utf8' }).trim();
}

/** A feed that lists its 20 latest items and publishes two more on every request. */
async function startLiveFeeds(): Promise<{ url: (n: number) => string; close: () => Promise<void> }> {
  const polls = new Map<string, number>();
  const epoch = Date.now() - 3_600_000;
  const server = http.createServer((req, res) => {
    const feed = req.url ?? '/';
    const poll = (polls.get(feed) ?? 0) + 1;
    polls.set(feed, poll);
    const items = Array.from({ length: 20 }, (_, k) => {
      const n = poll * 2 - k;
      return `<item><title>Report ${n} of ${feed.slice(1)}</title><link>https://standby.example${feed}/${n}</link><guid>standby${feed}/${n}</guid>
<pubDate>${new Date(epoch + n * 1_000).toUTCString()}</pubDate><description>Report number ${n} from the feed ${feed.slice(1)}.</description></item>`;
    }).filter((_, k) => poll * 2 - k > 0);
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Feed ${feed}</title><link>https://standby.example/</link>${items.join('')}</channel></rss>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: (n) => `http://127.0.0.1:${port}/feed-${n}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function startNewsloom(config: string, role: 'all' | 'web'): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--role', role], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NEWSLOOM_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export async function standbyDrill(): Promise<DrillResult> {
  const name = 'standby';
  const bin = serverBin();
  if (!bin) return { name, pass: true, figures: 'SKIPPED: the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed' };
  if (userInfo().uid === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      return { name, pass: true, figures: 'SKIPPED: running as root with no user "postgres" to run the servers as' };
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-drill-standby-'));
  const primaryDir = path.join(dir, 'primary');
  const standbyDir = path.join(dir, 'standby');
  mkdirSync(primaryDir);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    chownSync(primaryDir, uid, gid);
  }
  const primaryPort = await freePort();
  const standbyPort = await freePort();
  const started: string[] = [];
  const processes: ChildProcess[] = [];
  const feeds = await startLiveFeeds();
  try {
    // The primary: a cluster of its own, allowing replication from loopback.
    asPostgres(bin, 'initdb', ['-D', primaryDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    writeFileSync(path.join(primaryDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    const serverOptions = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    asPostgres(bin, 'pg_ctl', ['-D', primaryDir, '-o', `${serverOptions(primaryPort)} -c wal_level=replica -c max_wal_senders=4`, '-l', path.join(dir, 'primary.log'), '-w', 'start']);
    started.push(primaryDir);
    psql(primaryPort, 'postgres', 'CREATE DATABASE newsloom');

    // The standby: a base backup of the primary, streaming from it (-R writes primary_conninfo and standby.signal).
    const copyStarted = performance.now();
    asPostgres(bin, 'pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
    const copyMs = performance.now() - copyStarted;
    asPostgres(bin, 'pg_ctl', ['-D', standbyDir, '-o', `${serverOptions(standbyPort)} -c hot_standby=on`, '-l', path.join(dir, 'standby.log'), '-w', 'start']);
    started.push(standbyDir);
    const recovering = psql(standbyPort, 'postgres', 'SELECT pg_is_in_recovery()');

    const serverPort = await freePort();
    const webPort = await freePort();
    const config = (port: number, db: number) => {
      const file = path.join(dir, `newsloom-${port}.yaml`);
      const sources = Array.from({ length: 20 }, (_, n) => `  - { id: s${n}, url: "${feeds.url(n)}", every: 2s, language: en }`);
      writeFileSync(
        file,
        `server: { host: 127.0.0.1, port: ${port}, base_url: "http://standby.example" }
storage: { url: "postgres://postgres@127.0.0.1:${db}/newsloom" }
fetch: { min_interval: 1s, host_gap: 0ms, per_host: 8 }
outputs:
  - { id: all, title: Everything, limit: 50 }
sources:
${sources.join('\n')}
`,
      );
      return file;
    };
    const primary = startNewsloom(config(serverPort, primaryPort), 'all');
    processes.push(primary.child);
    await waitFor('the daemon on the primary', async () => (await fetch(`http://127.0.0.1:${serverPort}/readyz`)).ok, 60_000);
    const replica = startNewsloom(config(webPort, standbyPort), 'web');
    processes.push(replica.child);
    await waitFor('the web replica on the standby', async () => (await fetch(`http://127.0.0.1:${webPort}/readyz`)).ok, 60_000);

    // For 30 s: the newest item on the primary, and how long until the replica on the standby serves it.
    const lags: number[] = [];
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const newest = psql(primaryPort, 'newsloom', 'SELECT url FROM items ORDER BY published_at DESC, id DESC LIMIT 1');
      const seen = Date.now();
      if (newest) {
        let lag = Infinity;
        while (Date.now() - seen < 10_000) {
          const body = await (await fetch(`http://127.0.0.1:${webPort}/feeds/all.atom`)).text();
          if (body.includes(newest)) {
            lag = Date.now() - seen;
            break;
          }
          await sleep(50);
        }
        lags.push(lag);
      }
      await sleep(500);
    }
    const wrote = psql(standbyPort, 'newsloom', 'SELECT count(*) FROM items');
    const primaryCount = psql(primaryPort, 'newsloom', 'SELECT count(*) FROM items');
    lags.sort((a, b) => a - b);
    const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(lags.length * q))] ?? Infinity;
    const worst = lags.at(-1) ?? Infinity;
    const replicaAlive = replica.child.exitCode === null;
    const pass = recovering === 't' && lags.length >= 10 && worst <= LAG_TARGET_MS && replicaAlive;
    return {
      name,
      pass,
      figures:
        `standby copied by pg_basebackup in ${Math.round(copyMs)} ms, in recovery: ${recovering}; ${lags.length} samples: the replica on the standby served the primary's newest item ` +
        `after ${p(0.5)} ms (median), ${p(0.99)} ms (p99), ${worst} ms (worst; target ≤ ${LAG_TARGET_MS} ms); items on the primary ${primaryCount}, on the standby ${wrote}` +
        (replicaAlive ? '' : `; the replica exited: ${replica.stderr()}`),
    };
  } finally {
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
    for (const data of started.reverse()) {
      try {
        asPostgres(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
    }
    await feeds.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
