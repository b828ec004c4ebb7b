import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostLimiter, type Grant } from '../src/sources/hosts.ts';

const url = (host: string) => new URL(`http://${host}/feed.xml`);
const released = (grant: Grant) => {
  if (!('release' in grant)) throw new Error(`blocked until ${grant.blockedUntil}`);
  return grant.release;
};

describe('the host limiter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  /** Starts acquisitions and reports, after the timers ran, which of them were granted. */
  const track = (limiter: HostLimiter, hosts: string[]) => {
    const grants: (Grant | undefined)[] = hosts.map(() => undefined);
    hosts.forEach((host, i) => void limiter.acquire(url(host)).then((g) => (grants[i] = g)));
    return grants;
  };

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
