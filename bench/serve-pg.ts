// Serving feeds from PostgreSQL with two web replicas: 1,000,000 items (the shape of bench/populate.ts: 10 sources,
// 10 topics) in one database, two `newsloom run` processes started from src/cli.ts on it, and the load client
// (bench/support/load-client.ts) on both at once, 5 connections each: cold renders (a different page of topic t1 each
// request, each replica its own pages), cached 200s and 304s; requests per second and p99 per replica and overall.
// The replicas run `--role web`: read-only, no polling, no housekeeping (their sources are disabled too, and retention
// is long, as for a daemon of the default role).
// Run: node bench/serve-pg.ts   (ITEMS=100000 SECONDS=2 for a quicker, smaller run; NEWSLOOM_BENCH_DATABASE_URL)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config/load.ts';
import { TOPICS_HASH_KEY } from '../src/pipeline/retag.ts';
import { compileTopics } from '../src/pipeline/tagger.ts';
import { DAEMON_NODE_FLAGS, fmt, freePort, runIfMain, type BenchResult, type Figure } from './lib.ts';
import { copiedDatabase } from './pg-database.ts';
import { populatedConfigYaml, populatedItem } from './populate.ts';
import { runLoad, type LoadResult } from './support/load-client.ts';

const ITEMS = Number(process.env.ITEMS ?? 1_000_000);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 10;
const REPLICAS = 2;
const CLI = path.join(import.meta.dirname, '../src/cli.ts');
/** Raise when what buildItems writes changes, so that the template is built again. */
const BUILD_VERSION = 1;
/** Items a transaction while building. */
const BATCH = 10_000;

interface Replica {
  name: string;
  url: string;
  process: ChildProcess;
}

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-serve-pg-'));
  const database = await copiedDatabase(`serve_${ITEMS}_b${BUILD_VERSION}`, buildItems);
  const replicas: Replica[] = [];
  try {
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(dir, `replica ${String.fromCharCode(65 + i)}`, database.url));
    const feedPath = '/topics/t1.atom';
    // The second replica's start may write the sources' rows (moving the generation): within a second the first has heard.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const first = await Promise.all(replicas.map((r) => fetchOnce(`${r.url}${feedPath}`)));
    const sameBytes = first.every((f) => f.body.equals(first[0]!.body) && f.etag === first[0]!.etag);
    // Distinct pages, each asked for once, more than a replica's render cache holds (some 800 of these): every one misses.
    const cursors = await pageCursors(database.url, 9_000);
    const pagesOf = (k: number) => cursors.filter((_, i) => i % 3 === k).map((c) => `${feedPath}?cursor=${c}`);
    const load = (replica: Replica, paths: string[], connections: number, headers?: Record<string, string>) =>
      runLoad({ urls: paths.map((p) => `${replica.url}${p}`), headers, connections, durationSeconds: SECONDS, samples: true });
    /** Both replicas loaded at the same time, CONNECTIONS split between them. */
    const both = (paths: (replica: number) => string[], headers?: (replica: number) => Record<string, string>) =>
      Promise.all(replicas.map((r, i) => load(r, paths(i), CONNECTIONS / REPLICAS, headers?.(i))));
    // The yardstick first: one replica alone with every connection, on pages the split loads below never ask for.
    const alone = await load(replicas[0]!, pagesOf(2), CONNECTIONS);
    const cold = await both((i) => pagesOf(i));
    const cached = await both(() => [feedPath]);
    const notModified = await both(() => [feedPath], (i) => ({ 'if-none-match': first[i]!.etag }));

    const figures = (what: string, results: LoadResult[], target?: number): Figure[] => {
      const all = results.flatMap((r) => r.latenciesMs ?? []).sort((a, b) => a - b);
      const p99 = all[Math.min(all.length - 1, Math.floor(all.length * 0.99))] ?? 0;
      return [
        ...results.flatMap((r, i) => [
          { label: `${what}, ${replicas[i]!.name}`, value: r.requestsPerSecond, unit: 'req/s' },
          { label: `${what}, ${replicas[i]!.name}, p99`, value: r.p99Ms, unit: 'ms' },
        ]),
        { label: `${what}, both`, value: results.reduce((n, r) => n + r.requestsPerSecond, 0), unit: 'req/s' },
        {
          label: `${what}, both, p99 (every response of both)`,
          value: p99,
          unit: 'ms',
          ...(target === undefined ? {} : { target: `< ${target} ms`, ok: p99 < target }),
        },
      ];
    };
    const loads = [alone, ...cold, ...cached, ...notModified];
    const errors = loads.reduce((n, r) => n + r.errors + (r.statuses['5xx'] ?? 0), 0);
    return {
      name: `serve on PostgreSQL: a 50-entry topic feed (${fmt(first[0]!.body.length / 1024)} KB) from ${fmt(ITEMS)} items, ${REPLICAS} web replicas, ${CONNECTIONS} connections, ${SECONDS} s per load`,
      figures: [
        ...(database.buildSeconds === undefined ? [] : [{ label: `database built (${fmt(ITEMS)} items, multi-row inserts)`, value: database.buildSeconds, unit: 's' }]),
        { label: `cold render, ${replicas[0]!.name} alone, ${CONNECTIONS} connections`, value: alone.requestsPerSecond, unit: 'req/s' },
        { label: `cold render, ${replicas[0]!.name} alone, p99`, value: alone.p99Ms, unit: 'ms' },
        ...figures('cold render', cold, 30),
        ...figures('cached 200', cached),
        ...figures('304', notModified),
        { label: 'both replicas serve the same bytes and ETag, 1 s after start', value: sameBytes ? 1 : 0, unit: 'yes=1', target: '= 1', ok: sameBytes },
        { label: 'errors and 5xx across all loads', value: errors, unit: 'responses', target: '= 0', ok: errors === 0 },
      ],
    };
  } finally {
    await Promise.all(replicas.map((r) => stop(r.process)));
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The populated items (bench/populate.ts) written straight into the tables, as the engine stores them: items and their topics. */
async function buildItems(store: Parameters<Parameters<typeof copiedDatabase>[1]>[0], client: pg.Client): Promise<void> {
  const config = parseConfig(populatedConfigYaml('http://127.0.0.1'), 'bench.yaml', {});
  await store.sources.sync(config.sources);
  for (let from = 0; from < ITEMS; from += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, ITEMS - from) }, (_, k) => populatedItem(from + k));
    const column = <K extends keyof (typeof batch)[number]>(key: K) => batch.map((item) => item[key]);
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO items (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
         author, categories, image, language, published_at, updated_at, first_seen_at, content_hash)
       SELECT id, uid, source_id, guid, url, url, title, summary_html, content_html, summary_text, content_text, NULL, '[]', NULL, 'en',
         published_at, published_at, published_at, content_hash
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[])
         AS t(id, uid, source_id, guid, url, title, summary_html, content_html, summary_text, content_text, published_at, content_hash)`,
      [
        column('id'),
        column('uid'),
        column('sourceId'),
        column('guid'),
        column('url'),
        column('title'),
        column('summaryHtml'),
        column('contentHtml'),
        column('summaryText'),
        column('contentText'),
        column('publishedAt'),
        column('contentHash'),
      ],
    );
    await client.query(
      `INSERT INTO item_topics (item_id, topic_id, published_at, matches) SELECT id, topic, published_at, '[]' FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS t(id, topic, published_at)`,
      [column('id'), column('topic'), column('publishedAt')],
    );
    await client.query('COMMIT');
  }
  await client.query(`SELECT setval(pg_get_serial_sequence('items', 'id'), ${ITEMS})`);
  // The tags were written for these topics: a daemon started on this config has nothing to re-tag.
  await store.meta.set(TOPICS_HASH_KEY, compileTopics(config.topics).hash);
}

/**
 * `newsloom run` on the database, ready: one public address for both (their links must not name their own ports), its sources disabled (it polls nothing, like a web replica) and its housekeeping
 * scheduled for New Year's night (it would prune the populated items, dated 2025, past the default retention).
 */
async function startReplica(dir: string, name: string, url: string): Promise<Replica> {
  const port = await freePort();
  const configFile = path.join(dir, `${name.replace(/\W/g, '-')}.yaml`);
  writeFileSync(
    configFile,
    `server: { host: 127.0.0.1, port: ${port}, base_url: "https://news.example/" }
storage: { url: ${JSON.stringify(url)} }
log: { level: warn }
retention: { items: 3650d, schedule: "0 0 1 1 *" }
${populatedConfigYaml('http://127.0.0.1:9', { polled: false })}`,
  );
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', configFile, '--role', 'web'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const replica = { name, url: `http://127.0.0.1:${port}`, process: child };
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    if (await fetch(`${replica.url}/readyz`).then((r) => r.ok, () => false)) return replica;
    if (performance.now() - started > 120_000) {
      await stop(child);
      throw new Error(`${name} was not ready within 2 minutes`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Cursors into topic t1 at spread-out depths: each is a different page, so each request renders. */
async function pageCursors(url: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ published_at: string; item_id: string }>(
      `SELECT published_at, item_id FROM item_topics WHERE topic_id = 't1' ORDER BY published_at DESC, item_id DESC`,
    );
    const stride = Math.max(1, Math.floor(rows.length / count));
    return rows.filter((_, i) => i % stride === 0).map((r) => `${Number(r.published_at).toString(36)}.${Number(r.item_id).toString(36)}`);
  } finally {
    await client.end();
  }
}

async function fetchOnce(url: string): Promise<{ body: Buffer; etag: string }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return { body: Buffer.from(await response.arrayBuffer()), etag: response.headers.get('etag') ?? '' };
}

await runIfMain(import.meta.url, run);
