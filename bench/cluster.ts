// `node bench/cluster.ts`: what the cluster costs a single SQLite daemon, where it is kept in memory: the scheduler's
// claim over every configured source (beside the per-source reads of due times it replaced), and a request slot of
// the host limiter with and without asking the in-memory cluster after its own turn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HostLimiter, type SharedHosts } from '../src/sources/hosts.ts';
import { openStore } from '../src/store/store.ts';

const SOURCES = 10_000;
const REQUESTS = 50_000;

const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-cluster-'));
const store = await openStore({ path: path.join(dir, 'newsloom.db') });
try {
  const ids = Array.from({ length: SOURCES }, (_, i) => `feed-${i}`);
  await store.sources.sync(ids.map((id) => ({ id, url: `http://feeds.test/${id}.xml` })));
  const now = Date.now();
  for (const id of ids) await store.sources.scheduleNext(id, now + 60_000);
  const time = async (runs: number, fn: () => Promise<unknown>) => {
    await fn();
    const started = performance.now();
    for (let i = 0; i < runs; i++) await fn();
    return (performance.now() - started) / runs;
  };
  const claim = await time(50, () => store.cluster.claim('bench', ids, now, 600_000, 64));
  const reads = await time(5, async () => {
    for (const id of ids) await store.sources.get(id);
  });
  console.log(`a tick over ${SOURCES.toLocaleString('en')} sources, none due: claim ${claim.toFixed(1)} ms (the per-source reads it replaced: ${reads.toFixed(1)} ms)`);

  const shared: SharedHosts = {
    acquire: async (key, limits, at) => {
      const answer = await store.cluster.acquireHost('bench', key, limits, at, 90_000);
      return 'slot' in answer ? { release: () => void store.cluster.releaseHost(answer.slot) } : answer;
    },
    block: (key, until) => void store.cluster.blockHost(key, until),
  };
  const limits = () => ({ concurrency: 16, perHost: 2, minGapMs: 0 });
  const urls = Array.from({ length: 250 }, (_, i) => new URL(`http://h${i}.test/feed.xml`));
  for (const [name, limiter] of [
    ['the host limiter alone', new HostLimiter(limits)],
    ['with the in-memory cluster', new HostLimiter(limits, shared)],
  ] as const) {
    let i = 0;
    const perSlot = await time(REQUESTS, async () => {
      const grant = await limiter.acquire(urls[i++ % urls.length]!);
      if ('release' in grant) grant.release();
    });
    console.log(`a request slot, ${name}: ${(perSlot * 1_000).toFixed(2)} µs`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
