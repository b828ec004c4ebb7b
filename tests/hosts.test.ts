import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostLimiter, type Grant, type SharedHosts } from '../src/sources/hosts.ts';

const url = (host: string) => new URL(`http://${host}/feed.xml`);
const released = (grant: Grant) => {
  if (!('release' in grant)) throw new Error(`blocked until ${grant.blockedUntil}`);
  return grant.release;
};

/** Starts acquisitions and reports, after the timers ran, which of them were granted. */
const track = (limiter: HostLimiter, hosts: string[]) => {
  const grants: (Grant | undefined)[] = hosts.map(() => undefined);
  hosts.forEach((host, i) => void limiter.acquire(url(host)).then((g) => (grants[i] = g)));
  return grants;
};

describe('the host limiter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('lets at most per_host requests go to one host at once, and the next one in when one ends', async () => {
    const limiter = new HostLimiter(() => ({ concurrency: 10, perHost: 2, minGapMs: 0 }));
    const grants = track(limiter, ['a.test', 'a.test', 'a.test']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(grants.map(Boolean)).toEqual([true, true, false]);
    released(grants[0]!)();
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map(Boolean)).toEqual([true, true, true]);
  });

  it('keeps the minimum gap between requests to one host, without holding up other hosts', async () => {
    const limiter = new HostLimiter(() => ({ concurrency: 10, perHost: 2, minGapMs: 500 }));
    const grants = track(limiter, ['a.test', 'a.test', 'b.test']);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map(Boolean)).toEqual([true, false, true]);
    await vi.advanceTimersByTimeAsync(499);
    expect(grants[1]).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(grants[1]).toBeDefined();
  });

  it('caps all requests in flight, and treats two ports of one name as two hosts', async () => {
    const limiter = new HostLimiter(() => ({ concurrency: 2, perHost: 2, minGapMs: 0 }));
    const grants = track(limiter, ['a.test:8080', 'a.test:8081', 'c.test']);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map(Boolean)).toEqual([true, true, false]);
    released(grants[1]!)();
    await vi.advanceTimersByTimeAsync(0);
    expect(grants[2]).toBeDefined();
  });

  it('answers requests to a host that sent Retry-After with the time to come back, until then', async () => {
    const limiter = new HostLimiter(() => ({ concurrency: 10, perHost: 1, minGapMs: 0 }));
    const first = track(limiter, ['a.test']);
    await vi.advanceTimersByTimeAsync(0);
    const waiting = track(limiter, ['a.test', 'a.test:81']);
    limiter.block(url('a.test'), Date.now() + 60_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting[0]).toEqual({ blockedUntil: Date.now() + 60_000 });
    expect(waiting[1]).toHaveProperty('release');
    released(first[0]!)();
    await vi.advanceTimersByTimeAsync(60_000);
    const later = track(limiter, ['a.test']);
    await vi.advanceTimersByTimeAsync(0);
    expect(later[0]).toHaveProperty('release');
  });

  it('gives up waiting when the poll is cancelled', async () => {
    const limiter = new HostLimiter(() => ({ concurrency: 1, perHost: 1, minGapMs: 0 }));
    track(limiter, ['a.test']);
    const abort = new AbortController();
    const waiting = limiter.acquire(url('b.test'), abort.signal);
    abort.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });
});

describe('the host limiter in a cluster', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  /** The cluster's side: answers per host key from `answer`, counting what is asked, released and blocked. */
  const cluster = (answer: (key: string, asked: number) => { retryAt: number; blocked?: boolean } | 'slot') => {
    const seen = { asked: [] as { key: string; now: number }[], released: [] as string[], blocked: [] as { key: string; until: number }[] };
    const shared: SharedHosts = {
      acquire: (key, _limits, now) => {
        seen.asked.push({ key, now });
        const given = answer(key, seen.asked.filter((a) => a.key === key).length);
        return Promise.resolve(given === 'slot' ? { release: () => void seen.released.push(key) } : given);
      },
      block: (key, until) => void seen.blocked.push({ key, until }),
    };
    return { shared, seen };
  };

  it("asks the cluster for a slot after its own turn, and gives both back when the body is read", async () => {
    const { shared, seen } = cluster(() => 'slot');
    const limiter = new HostLimiter(() => ({ concurrency: 1, perHost: 1, minGapMs: 0 }), shared);
    const grant = await limiter.acquire(url('a.test'));
    expect(seen.asked).toEqual([{ key: 'a.test:80', now: Date.now() }]);
    const next = limiter.acquire(url('b.test'));
    released(grant)();
    expect(seen.released).toEqual(['a.test:80']);
    expect(await next).toHaveProperty('release');
  });

  it('while the cluster says not yet, gives its turn to other hosts and asks again then', async () => {
    const { shared, seen } = cluster((key, asked) => (key === 'a.test:80' && asked === 1 ? { retryAt: Date.now() + 200 } : 'slot'));
    const limiter = new HostLimiter(() => ({ concurrency: 1, perHost: 1, minGapMs: 0 }), shared);
    const grants = track(limiter, ['a.test', 'b.test']);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map(Boolean)).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(200);
    // Its time has come, but b.test holds the one request slot of this process.
    expect(grants[0]).toBeUndefined();
    released(grants[1]!)();
    await vi.advanceTimersByTimeAsync(0);
    expect(grants[0]).toHaveProperty('release');
    expect(seen.asked.map((a) => a.key)).toEqual(['a.test:80', 'b.test:80', 'a.test:80']);
  });

  it("fails a request at once when another process saw the host's Retry-After, and keeps the block here too", async () => {
    const until = Date.now() + 60_000;
    const { shared, seen } = cluster(() => ({ retryAt: until, blocked: true }));
    const limiter = new HostLimiter(() => ({ concurrency: 4, perHost: 1, minGapMs: 0 }), shared);
    expect(await limiter.acquire(url('a.test'))).toEqual({ blockedUntil: until });
    expect(await limiter.acquire(url('a.test'))).toEqual({ blockedUntil: until });
    expect(seen.asked).toHaveLength(1);
    expect(limiter.blockedUntil(url('a.test'))).toBe(until);
  });

  it("tells the cluster of a host's Retry-After", () => {
    const { shared, seen } = cluster(() => 'slot');
    const limiter = new HostLimiter(() => ({ concurrency: 4, perHost: 1, minGapMs: 0 }), shared);
    limiter.block(url('a.test:8080'), Date.now() + 5_000);
    expect(seen.blocked).toEqual([{ key: 'a.test:8080', until: Date.now() + 5_000 }]);
  });

  it('gives up waiting for the cluster when the poll is cancelled', async () => {
    const { shared } = cluster(() => ({ retryAt: Date.now() + 60_000 }));
    const limiter = new HostLimiter(() => ({ concurrency: 1, perHost: 1, minGapMs: 0 }), shared);
    const abort = new AbortController();
    const waiting = limiter.acquire(url('a.test'), abort.signal);
    const outcome = expect(waiting).rejects.toThrow('shutting down');
    await vi.advanceTimersByTimeAsync(0);
    abort.abort(new Error('shutting down'));
    await outcome;
  });
});
