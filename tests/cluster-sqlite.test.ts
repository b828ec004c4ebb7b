// The cluster of a SQLite database is one process, kept in memory (src/store/sqlite/cluster.ts), and honest all the
// same: claims take only due sources nobody holds, fences refuse a lease that ended or was released, host slots count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError, type Store } from '../src/store/store.ts';
import { storeOpener } from './helpers/stores.ts';

describe('the cluster on SQLite', () => {
  let dir: string;
  let clock: number;
  let store: Store;
  const opener = storeOpener(() => path.join(dir, 'newsloom.db'));

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'newsloom-cluster-'));
    clock = 1_000_000;
    store = await opener.open({ now: () => clock });
    await store.sources.sync(['a', 'b', 'c', 'later'].map((id) => ({ id, url: `http://feeds.test/${id}.xml` })));
    await store.sources.scheduleNext('b', clock - 5_000);
    await store.sources.scheduleNext('c', clock);
    await store.sources.scheduleNext('later', clock + 1);
  });

  afterEach(async () => {
    await opener.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const fence = (lease: Parameters<Store['cluster']['release']>[0]) => store.write((tx) => tx.fence(lease));

  it('claims due sources, most overdue first, at most the limit, and none that another holds', async () => {
    const first = await store.cluster.claim('p1', ['a', 'b', 'c', 'later'], clock, 1_000, 2);
    expect(first.map((l) => l.sourceId)).toEqual(['a', 'b']);
    expect((await store.cluster.claim('p2', ['a', 'b', 'c', 'later'], clock, 1_000, 10)).map((l) => l.sourceId)).toEqual(['c']);
    expect(await store.cluster.claim('p2', ['a', 'b'], clock + 999, 1_000, 10)).toEqual([]);
    const taken = await store.cluster.claim('p2', ['a'], clock + 1_000, 1_000, 10);
    expect(taken[0]!.token).toBeGreaterThan(Math.max(...first.map((l) => l.token)));
  });

  it("renews its owner's lease, keeping the token", async () => {
    const [lease] = await store.cluster.claim('p1', ['a'], clock, 1_000, 1);
    const [renewed] = await store.cluster.claim('p1', ['a'], clock + 600, 1_000, 1);
    expect(renewed).toEqual({ ...lease, until: clock + 1_600 });
    clock += 1_200;
    await expect(fence(lease!)).resolves.toBeUndefined();
  });

  it('fences out a lease that ended, was released or was taken over, and the write with it', async () => {
    const [lease] = await store.cluster.claim('p1', ['a'], clock, 1_000, 1);
    await expect(fence(lease!)).resolves.toBeUndefined();
    clock += 1_000;
    const write = store.write(async (tx) => {
      await tx.fence(lease!);
      await tx.sources.scheduleNext('a', clock + 60_000);
    });
    await expect(write).rejects.toThrow(LeaseLostError);
    expect((await store.sources.get('a'))!.nextPollAt).toBeNull();
    const [taken] = await store.cluster.claim('p2', ['a'], clock, 1_000, 1);
    clock -= 500;
    await expect(fence(lease!)).rejects.toThrow(LeaseLostError);
    await store.cluster.release(lease!);
    await expect(fence(taken!)).resolves.toBeUndefined();
    await store.cluster.release(taken!);
    await expect(fence(taken!)).rejects.toThrow(LeaseLostError);
  });

  it('counts host slots, keeps the gap, and answers a blocked host with its Retry-After', async () => {
    const limits = { perHost: 2, minGapMs: 100 };
    const one = await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock, 1_000);
    expect(await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock + 50, 1_000)).toEqual({ retryAt: clock + 100 });
    const two = await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock + 100, 1_000);
    expect('slot' in one && 'slot' in two).toBe(true);
    expect(await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock + 200, 1_000)).toEqual({ retryAt: clock + 1_000 });
    if ('slot' in one) await store.cluster.releaseHost(one.slot);
    expect(await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock + 200, 1_000)).toHaveProperty('slot');
    await store.cluster.blockHost('feeds.test:80', clock + 60_000);
    expect(await store.cluster.acquireHost('p1', 'feeds.test:80', limits, clock + 300, 1_000)).toEqual({ retryAt: clock + 60_000, blocked: true });
  });

  it('gives a task to one owner until its lease ends', async () => {
    expect(await store.cluster.holdTask('p1', 'housekeeping', clock, 1_000)).toBe(true);
    expect(await store.cluster.holdTask('p2', 'housekeeping', clock + 500, 1_000)).toBe(false);
    expect(await store.cluster.holdTask('p1', 'housekeeping', clock + 500, 1_000)).toBe(true);
    expect(await store.cluster.holdTask('p2', 'housekeeping', clock + 1_500, 1_000)).toBe(true);
  });
});
