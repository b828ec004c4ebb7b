// Crash safety of the real daemon: SIGKILL at random moments of heavy ingestion loses nothing committed,
// never shows half a poll, and a restart resumes without duplicates; SIGTERM exits cleanly.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_MS } from '../src/daemon.ts';
import { fetchAtom } from './helpers/atom.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { freePort, runDaemon, type DaemonProcess } from './helpers/process.ts';

const SOURCES = 16;
const NEW_PER_POLL = 30;

/** A feed that grows by NEW_PER_POLL items at every request (until frozen) and always lists all of them. */
class GrowingFeed {
  size = 0;
  /** Every size of the feed some response had. */
  readonly served = new Set<number>([0]);
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }

  body(frozen: boolean): string {
    // A frozen feed still gets its first items, so that every source has something to lose.
    if (!frozen || this.size === 0) this.size += NEW_PER_POLL;
    this.served.add(this.size);
    const items: string[] = [];
    for (let n = this.size; n >= 1; n--) {
      const date = new Date(Date.UTC(2024, 0, 1) + n * 60_000).toUTCString();
      const topic = n % 3 === 0 ? 'Kazakhstan' : 'the region';
      items.push(`<item><title>${this.id} report ${n} on ${topic}</title><link>https://${this.id}.example/news/${n}</link>
<guid>${this.id}-${n}</guid><pubDate>${date}</pubDate>
<description>Report number ${n} of ${this.id}. ${'The delegation discussed trade, transport and security at length. '.repeat(6)}</description></item>`);
    }
    return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>${this.id}</title><link>https://${this.id}.example/</link>${items.join('\n')}</channel></rss>`;
  }
}

/** The item numbers stored per source, read straight from the database file. */
function storedNumbers(dbFile: string): { integrity: string; bySource: Map<string, number[]> } {
  const db = new Database(dbFile);
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const bySource = new Map<string, number[]>();
    for (const row of db.prepare<[], { source_id: string; guid: string }>('SELECT source_id, guid FROM items').all()) {
      const numbers = bySource.get(row.source_id) ?? [];
      numbers.push(Number(row.guid.split('-').at(-1)));
      bySource.set(row.source_id, numbers);
    }
    return { integrity, bySource };
  } finally {
    db.close();
  }
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('the daemon under kill -9 and SIGTERM', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let configFile: string;
  let dbFile: string;
  let running: DaemonProcess | undefined;

  beforeEach(async () => {
    server = await startFixtureServer();
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    dbFile = path.join(setup.dir, 'newsloom.db');
  });

  afterEach(async () => {
    running?.child.kill('SIGKILL');
    await running?.exited;
    running = undefined;
    await server.close();
    setup.cleanup();
  });

  /** Writes the config and says the port the daemon will listen on. */
  const writeConfig = async (urls: string[], every: string): Promise<number> => {
    const port = await freePort();
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${port} }
storage: { path: ${JSON.stringify(dbFile)} }
# The test feeds' items are from 2024: not too old to keep.
retention: { items: 36500d }
# Every test feed lives on one loopback host: no per-host pacing here.
fetch: { concurrency: 4, per_host: 4, host_gap: 0s, min_interval: 1s }
sources:
${urls.map((url, i) => `  - { id: s${i}, url: "${url}", every: ${every} }`).join('\n')}
topics:
  - { id: kazakhstan, any: [Kazakhstan] }
outputs:
  - { id: everything, title: Everything, limit: 500 }
`,
    );
    return port;
  };

  it('loses nothing and duplicates nothing when killed with SIGKILL during ingestion, again and again', async () => {
    const feeds = Array.from({ length: SOURCES }, (_, i) => new GrowingFeed(`s${i}`));
    let frozen = false;
    feeds.forEach((feed, i) => server.set(`/feed/${i}.xml`, { handler: (_req, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed.body(frozen)) }));
    const port = await writeConfig(
      feeds.map((_, i) => `${server.url}/feed/${i}.xml`),
      '1s',
    );

    for (let round = 0; round < 4; round++) {
      running = runDaemon(configFile);
      // Ingestion is under way once a poll has committed; then kill at a random moment of what follows.
      await running.waitFor((l) => l.status === 'ok', 'a first committed poll');
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 600));
      running.child.kill('SIGKILL');
      expect(await running.exited).toBe('SIGKILL');
      running = undefined;

      const { integrity, bySource } = storedNumbers(dbFile);
      expect(integrity).toBe('ok');
      for (const feed of feeds) {
        const stored = (bySource.get(feed.id) ?? []).sort((a, b) => a - b);
        // A poll is visible whole or not at all: what is stored is exactly some response the feed gave.
        expect(feed.served.has(stored.length), `${feed.id} holds ${stored.length} items, no response had that many`).toBe(true);
        expect(stored).toEqual(oneToN(stored.length));
      }
    }

    // The feeds stop growing; a restart must catch up with everything they ever listed, exactly once.
    frozen = true;
    running = runDaemon(configFile);
    // Every poll of this run reads the final body: once each source has one committed, nothing may be missing.
    for (const feed of feeds) await running.waitFor((l) => l.source === feed.id && l.status === 'ok', `a poll of ${feed.id}`);
    const published = await fetchAtom(`http://127.0.0.1:${port}/feeds/everything.atom`);
    expect(published.entries.length).toBeGreaterThan(0);
    expect(new Set(published.entries.map((e) => e.id)).size).toBe(published.entries.length);
    expect(new Set(published.entries.map((e) => e.title)).size).toBe(published.entries.length);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = undefined;

    const { integrity, bySource } = storedNumbers(dbFile);
    expect(integrity).toBe('ok');
    for (const feed of feeds) {
      expect(feed.size).toBeGreaterThan(0);
      expect((bySource.get(feed.id) ?? []).sort((a, b) => a - b)).toEqual(oneToN(feed.size));
    }
  }, 60_000);

  it('lets the polls in flight finish on SIGTERM and exits 0 within the grace period', async () => {
    const feeds = Array.from({ length: 4 }, (_, i) => new GrowingFeed(`s${i}`));
    // Slow sources: every answer is held back until after SIGTERM, so every poll is in flight when it comes.
    const held: (() => void)[] = [];
    feeds.forEach((feed, i) =>
      server.set(`/feed/${i}.xml`, { handler: (_req, res) => held.push(() => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed.body(false))) }),
    );
    await writeConfig(
      feeds.map((_, i) => `${server.url}/feed/${i}.xml`),
      '1h',
    );
    running = runDaemon(configFile);
    await running.waitFor((l) => l.msg.startsWith('newsloom listening'), 'the daemon to start');
    while (held.length < feeds.length) await new Promise((resolve) => setTimeout(resolve, 20));

    running.child.kill('SIGTERM');
    const signal = await running.waitFor((l) => l.signal === 'SIGTERM', 'the daemon to take the signal');
    setTimeout(() => held.forEach((answer) => answer()), 300);
    const code = await Promise.race([running.exited, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS, 'still running after the grace period'))]);
    expect(code).toBe(0);
    // The polls ended after the signal, each with its items stored, and then the daemon stopped.
    const afterSignal = running.lines.slice(running.lines.indexOf(signal));
    expect(afterSignal.filter((l) => l.source !== undefined).map((l) => [l.source, l.status, l.new])).toEqual(
      expect.arrayContaining(feeds.map((f) => [f.id, 'ok', NEW_PER_POLL])),
    );
    expect(running.lines.at(-1)!.msg).toBe('newsloom stopped');
    running = undefined;

    const { integrity, bySource } = storedNumbers(dbFile);
    expect(integrity).toBe('ok');
    for (const feed of feeds) expect(bySource.get(feed.id)?.length).toBe(NEW_PER_POLL);
  }, 30_000);
});
