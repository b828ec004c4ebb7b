// The render cache: bounded in bytes (compressed copies included), least recently used first out, and one render for
// the requests that ask for the same cold resource at the same moment.
import { fork } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderCache, RenderTurns } from '../src/publish/cache.ts';
import { encodeCursor } from '../src/publish/params.ts';
import { startPublishing, type Publishing } from './helpers/publish.ts';

const CONFIG = {};
const body = (text: string) => ({ type: 'text/plain', body: text, lastModified: 0 });

describe('the render cache', () => {
  it('keeps at most its size in bytes, dropping the least recently used first', async () => {
    const cache = new RenderCache(() => 100_000);
    for (let n = 0; n < 100; n++) await cache.get(`/page/${n}`, 1, CONFIG, () => body(`${n}`.padEnd(10_000, '.')));
    expect(cache.bytes).toBeLessThanOrEqual(100_000);
    expect(cache.bytes).toBeGreaterThan(80_000);
    // The newest are kept; an old one renders again.
    let renders = 0;
    await cache.get('/page/99', 1, CONFIG, () => (renders++, body('99')));
    await cache.get('/page/0', 1, CONFIG, () => (renders++, body('0')));
    expect(renders).toBe(1);
  });

  it('counts the compressed copies it makes', async () => {
    const cache = new RenderCache(() => 1_000_000);
    const text = Array.from({ length: 5_000 }, (_, n) => `word${(n * 7919) % 10_007}`).join(' ');
    const resource = await cache.get('/feed', 1, CONFIG, () => body(text));
    const plain = cache.bytes;
    const br = cache.encode(resource, 'br');
    const gzip = cache.encode(resource, 'gzip');
    expect(cache.bytes).toBe(plain + br.length + gzip.length);
    // Made once: asked again, the same bytes, counted once.
    expect(cache.encode(resource, 'br')).toBe(br);
    expect(cache.bytes).toBe(plain + br.length + gzip.length);
  });

  it('lets go of compressed copies that push it past its size', async () => {
    const cache = new RenderCache(() => 60_000);
    const noise = (seed: number) => Array.from({ length: 4_000 }, (_, n) => ((n * 2_654_435_761 + seed) >>> 0).toString(36)).join('');
    const first = await cache.get('/a', 1, CONFIG, () => body(noise(1)));
    const second = await cache.get('/b', 1, CONFIG, () => body(noise(2)));
    cache.encode(first, 'gzip');
    cache.encode(second, 'gzip');
    expect(cache.bytes).toBeLessThanOrEqual(60_000);
  });

  it('renders a resource once for the requests that wait for it together', async () => {
    const cache = new RenderCache(() => 1_000_000);
    let renders = 0;
    let finish!: () => void;
    const rendering = new Promise<void>((resolve) => (finish = resolve));
    const render = async () => {
      renders++;
      await rendering;
      return body('the feed');
    };
    const waiting = Array.from({ length: 10 }, () => cache.get('/feed', 1, CONFIG, render));
    finish();
    const results = await Promise.all(waiting);
    expect(renders).toBe(1);
    expect(new Set(results).size).toBe(1);
    // A later generation does not take the earlier render.
    await cache.get('/feed', 2, CONFIG, render);
    expect(renders).toBe(2);
  });

  it('lets the next request render again after a render failed', async () => {
    const cache = new RenderCache(() => 1_000_000);
    await expect(
      cache.get('/feed', 1, CONFIG, () => {
        throw new Error('the store is gone');
      }),
    ).rejects.toThrow('the store is gone');
    expect((await cache.get('/feed', 1, CONFIG, () => body('back'))).body.toString()).toBe('back');
  });
});

describe('the server under many distinct URLs', () => {
  let publishing: Publishing;

  beforeAll(async () => {
    publishing = await startPublishing(`
sources:
  - { id: wire, url: "http://127.0.0.1:9/wire.xml" }
outputs:
  - { id: everything, title: Everything }
`);
    for (let n = 0; n < 30; n++) await publishing.add({ title: `Report ${n}`, sourceId: 'wire', publishedAt: Date.UTC(2026, 0, 1) + n * 60_000 });
  });

  afterAll(async () => {
    await publishing.stop();
  });

  it('renders a cold feed once for concurrent requests, and answers them all alike', async () => {
    const { store } = publishing.daemon.context;
    const list = store.items.list.bind(store.items);
    let renders = 0;
    store.items.list = (query) => (renders++, list(query));
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${publishing.url}/feeds/everything.atom?limit=7`)));
      const etags = new Set(responses.map((r) => r.headers.get('etag')));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(etags.size).toBe(1);
      expect(renders).toBe(1);
    } finally {
      store.items.list = list;
    }
  });

  it('holds no more than cache_size however many distinct URLs a client asks for', async () => {
    const CACHE_SIZE = 2 * 1024 * 1024;
    // The server in a process of its own, so that what the client here allocates does not count; with a small young
    // generation, whose own growth (to tens of MB by default, as garbage comes faster) would hide what the cache holds.
    const child = fork(new URL('helpers/cache-server.ts', import.meta.url), [String(CACHE_SIZE)], { execArgv: ['--expose-gc', '--max-semi-space-size=1'], stdio: 'ignore' });
    type Reply = { url?: string; rss?: number; retained?: number };
    const replies: Reply[] = [];
    let waiting: (() => void) | undefined;
    child.on('message', (m: Reply) => {
      replies.push(m);
      waiting?.();
    });
    const reply = async () => {
      while (replies.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
      return replies.shift()!;
    };
    const memory = async () => {
      child.send('measure');
      return (await reply()) as { rss: number; retained: number };
    };
    try {
      const { url } = await reply();
      const page = (n: number) => `${url}/feeds/everything.atom?limit=${20 + (n % 10)}&cursor=${encodeCursor({ publishedAt: Date.UTC(2030, 0, 1), id: n })}`;
      const fetchAll = async (from: number, to: number) => {
        let bytes = 0;
        for (let n = from; n < to; n += 10) {
          const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => fetch(page(n + k), { headers: { 'accept-encoding': 'gzip' } }).then((r) => r.arrayBuffer())));
          bytes += batch.reduce((sum, b) => sum + b.byteLength, 0);
        }
        return bytes;
      };
      // Warm: the server's heap and sockets at their working size before measuring.
      await fetchAll(0, 500);
      const before = await memory();
      const served = await fetchAll(500, 5_500);
      const after = await memory();
      // Every response was a distinct page of about 100 KB: an unbounded cache would hold 500 MB, one of 1,000 entries 100 MB.
      expect(served).toBeGreaterThan(5_000 * 80_000);
      // What stays alive after a full collection: the cache and a little of the server's own working state.
      expect(after.retained - before.retained).toBeLessThan(CACHE_SIZE + 16 * 1024 * 1024);
      // The process as the system sees it; the margin is the allocator's slack, which varies by tens of MB from run to
      // run (more while other processes compete for the cores). An unbounded cache grows it by ~500 MB.
      expect(after.rss - before.rss).toBeLessThan(CACHE_SIZE + 80 * 1024 * 1024);
    } finally {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 180_000);
});

describe('render turns', () => {
  it('starts renders in the order asked, one a turn of the event loop, so that other work runs between two', async () => {
    const turns = new RenderTurns(() => 1);
    const log: string[] = [];
    const a = turns.run(() => {
      log.push('a');
      // Work that arrives while a renders (a cached response, another request read): it runs before b starts.
      setImmediate(() => log.push('between'));
      return 'A';
    });
    const b = turns.run(() => (log.push('b'), 'B'));
    const c = turns.run(() => Promise.resolve((log.push('c'), 'C')));
    expect(await Promise.all([a, b, c])).toEqual(['A', 'B', 'C']);
    expect(log).toEqual(['a', 'between', 'b', 'c']);
  });

  it('runs no more than its concurrency at once, and goes on after a render fails', async () => {
    const turns = new RenderTurns(() => 2);
    let active = 0;
    let most = 0;
    const render = (n: number) => async () => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
      if (n === 1) throw new Error('render 1 failed');
      return n;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => turns.run(render(n))));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 'render 1 failed', 2, 3, 4]);
    expect(most).toBe(2);
  });
});
