// The scheduler in a cluster: it polls only the sources its claims got, writes a poll only while the poll's lease
// holds (fencing), renews leases of polls in flight and stops a poll whose lease was lost, and releases a lease once
// the next poll time is written. The cluster is the SQLite store's own, watched (or overruled) by a spy.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closePipeline, openPipeline } from '../src/daemon.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext, type PollResult } from '../src/pipeline/ingest.ts';
import { Scheduler, type SchedulerOptions } from '../src/scheduler/scheduler.ts';
import { LeaseLostError, type ClusterStore, type Lease } from '../src/store/store.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';

const LEASE_MS = 600_000;

describe('the scheduler under leases', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;
  let clock: number;
  let claims: { ids: string[]; limit: number }[];
  let renewals: string[][];
  let released: { lease: Lease; nextPollAt: number | null }[];
  let refuse: boolean;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/tass.xml', { body: readFileSync(new URL('fixtures/tass-en.xml', import.meta.url)) });
    setup = testConfig(`
sources:
  - { id: tass, url: "${server.url}/tass.xml", every: 15m }
  - { id: off, url: "${server.url}/tass.xml", enabled: false }
`);
    clock = Date.parse('2021-12-20T12:00:00Z');
    ctx = await openPipeline(setup.config, silentLogger, () => clock);
    claims = [];
    renewals = [];
    released = [];
    refuse = false;
  });

  afterEach(async () => {
    await closePipeline(ctx);
    await server.close();
    setup.cleanup();
  });

  /** The store's own cluster, with every claim and release seen (and claims refused while `refuse` is set). */
  const spy = (): ClusterStore => {
    const real = ctx.store.cluster;
    return {
      claim: async (owner, ids, now, leaseMs, limit) => {
        claims.push({ ids, limit });
        return refuse ? [] : real.claim(owner, ids, now, leaseMs, limit);
      },
      renew: async (owner, leases, now, leaseMs) => {
        renewals.push(leases.map((lease) => lease.sourceId));
        return real.renew(owner, leases, now, leaseMs);
      },
      release: async (lease) => {
        released.push({ lease, nextPollAt: (await ctx.store.sources.get(lease.sourceId))?.nextPollAt ?? null });
        return real.release(lease);
      },
      acquireHost: (...args) => real.acquireHost(...args),
      releaseHost: (slot) => real.releaseHost(slot),
      blockHost: (key, until) => real.blockHost(key, until),
      holdTask: (...args) => real.holdTask(...args),
    };
  };

  const scheduler = (poll: SchedulerOptions['poll'] = (source, signal, lease) => pollSource(ctx, source, signal, lease), maxPolls = 8) =>
    new Scheduler({
      sources: () => setup.config.sources,
      poll,
      store: { ...ctx.store, cluster: spy() },
      autoBounds: () => ({ minMs: 60_000, maxMs: 3_600_000 }),
      leaseMs: () => LEASE_MS,
      maxPolls: () => maxPolls,
      owner: 'poller-a',
      log: silentLogger,
      now: () => clock,
    });

  /** One heartbeat, and the polls it started to their end. */
  const cycle = async (s: Scheduler) => {
    await s.tick();
    await s.stop(10_000);
  };

  it('claims the enabled sources it does not poll yet, polls what the claim got, and releases each lease after writing the next poll time', async () => {
    await cycle(scheduler());
    expect(claims).toEqual([{ ids: ['tass'], limit: 8 }]);
    expect(await ctx.store.items.count()).toBe(10);
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ lease: { sourceId: 'tass', owner: 'poller-a' }, nextPollAt: clock + 15 * 60_000 });
    // Released: another poller may claim the source once it is due again.
    expect(await ctx.store.cluster.claim('poller-b', ['tass'], clock + 15 * 60_000, LEASE_MS, 1)).toHaveLength(1);
  });

  it('claims no more than makes up its polls in flight, and fills the room a finished poll leaves without waiting for the heartbeat', async () => {
    setup.config.sources.push(...['b', 'c'].map((id) => ({ ...setup.config.sources[0]!, id })));
    await ctx.store.sources.sync(setup.config.sources);
    let polling = 0;
    let most = 0;
    const polled: string[] = [];
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const s = scheduler(async (source, signal, lease) => {
      most = Math.max(most, ++polling);
      const result = await pollSource(ctx, source, signal, lease);
      polling--;
      if (polled.push(source.id) === 3) allDone();
      return result;
    }, 1);
    await s.tick();
    await done;
    await s.stop(10_000);
    expect(most).toBe(1);
    expect(polled.sort()).toEqual(['b', 'c', 'tass']);
    expect(claims.every((claim) => claim.limit === 1)).toBe(true);
  });

  it('polls nothing when the claim gets nothing (another poller has the sources)', async () => {
    refuse = true;
    const polled: string[] = [];
    await cycle(scheduler((source) => {
      polled.push(source.id);
      return Promise.resolve({ sourceId: source.id, status: 'ok', new: 0, updated: 0, unchanged: 0, merged: 0, durationMs: 0 });
    }));
    expect(claims).toHaveLength(1);
    expect(polled).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  it('does not claim a source held by another poller until that lease ends', async () => {
    await ctx.store.cluster.claim('poller-b', ['tass'], clock, 60_000, 1);
    await cycle(scheduler());
    expect(server.requests).toEqual([]);
    clock += 60_000;
    await cycle(scheduler());
    expect(server.requests).toHaveLength(1);
  });

  it("polls a killed poller's sources once its lease has ended, at the next heartbeat", async () => {
    // Poller A claims the source and dies in the middle of its poll: it never writes, renews or releases anything.
    const dead = new Scheduler({
      sources: () => setup.config.sources,
      poll: () => new Promise<PollResult>(() => {}),
      store: ctx.store,
      autoBounds: () => ({ minMs: 60_000, maxMs: 3_600_000 }),
      leaseMs: () => LEASE_MS,
      maxPolls: () => 8,
      owner: 'poller-dead',
      log: silentLogger,
      now: () => clock,
    });
    await dead.tick();
    const b = scheduler();
    clock += LEASE_MS - 1_000;
    await b.tick();
    expect(server.requests).toHaveLength(0);
    clock += 1_000;
    await cycle(b);
    expect(server.requests).toHaveLength(1);
    expect(await ctx.store.items.count()).toBe(10);
    expect(released).toMatchObject([{ lease: { owner: 'poller-a' }, nextPollAt: clock + 15 * 60_000 }]);
  });

  it('writes nothing of a poll that outlived its lease: no items, no source state, no next poll time', async () => {
    const results: PollResult[] = [];
    await cycle(scheduler(async (source, signal, lease) => {
      // The poller stalls past its lease (a long pause), and another poller takes the source over.
      clock += LEASE_MS;
      await ctx.store.cluster.claim('poller-b', [source.id], clock, LEASE_MS, 1);
      const result = await pollSource(ctx, source, signal, lease);
      results.push(result);
      return result;
    }));
    expect(results[0]).toMatchObject({ status: 'error', error: { kind: 'lease' } });
    expect(server.requests).toHaveLength(1);
    expect(await ctx.store.items.count()).toBe(0);
    expect(await ctx.store.sources.get('tass')).toMatchObject({ lastFetchAt: null, errorCount: 0, nextPollAt: null, etag: null });
    // poller-b's lease is untouched: the stale poll released nothing of it.
    expect(await ctx.store.cluster.claim('poller-c', ['tass'], clock, LEASE_MS, 1)).toEqual([]);
  });

  it('renews the lease of a poll in flight, and stops a poll whose lease another poller took', async () => {
    let signalOf: AbortSignal | undefined;
    let leaseOf: Lease | undefined;
    let finished!: () => void;
    const poll: SchedulerOptions['poll'] = (source, signal, lease) =>
      new Promise((resolve) => {
        signalOf = signal;
        leaseOf = lease;
        const done = () => {
          resolve({ sourceId: source.id, status: 'error', new: 0, updated: 0, unchanged: 0, merged: 0, durationMs: 0, error: { kind: 'timeout', message: 'cancelled' } });
          finished();
        };
        signal.addEventListener('abort', done, { once: true });
      });
    const ended = new Promise<void>((resolve) => (finished = resolve));
    const s = scheduler(poll);
    await s.tick();
    const first = leaseOf!;
    // Past half the lease, a tick renews it: the same token, a later end; nobody else can claim the source.
    clock += LEASE_MS * 0.6;
    await s.tick();
    expect(renewals).toEqual([['tass']]);
    expect(await ctx.store.cluster.claim('poller-b', ['tass'], first.until, LEASE_MS, 1)).toEqual([]);
    expect(signalOf!.aborted).toBe(false);
    // The poller stalls past the renewed lease too; another takes the source, and the next renewal finds it gone.
    clock += LEASE_MS * 1.1;
    expect(await ctx.store.cluster.claim('poller-b', ['tass'], clock, LEASE_MS, 1)).toHaveLength(1);
    await s.tick();
    await ended;
    expect(signalOf!.reason).toBeInstanceOf(LeaseLostError);
    await s.stop(1_000);
    expect((await ctx.store.sources.get('tass'))!.nextPollAt).toBeNull();
  });
});
