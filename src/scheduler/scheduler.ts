// Polls each enabled source when it is due: a node-cron heartbeat claims the due sources every second, and a source
// never has two polls at once, in this process or in the cluster: a poll runs under a lease on its source
// (store.cluster), renewed while it runs, and writes only while the lease holds. How many requests go out together,
// and to which host, is the host limiter's business (src/sources/hosts.ts): a poll waiting for a busy host holds up no other.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import type { SourceConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { PollResult } from '../pipeline/ingest.ts';
import { fencedWrite, LeaseLostError, storageProblem, type Lease, type Store } from '../store/store.ts';
import { ACTIVITY_WINDOW_MS, autoInterval, nextPollAt, type AutoBounds } from './schedule.ts';

export interface SchedulerOptions {
  sources: () => SourceConfig[];
  /** Polls a source under its lease: every write of the poll is fenced with it. */
  poll: (source: SourceConfig, signal: AbortSignal, lease: Lease) => Promise<PollResult>;
  store: Store;
  /** The bounds of `every: auto` intervals (fetch.auto_min, fetch.auto_max). */
  autoBounds: () => AutoBounds;
  /** How long a claim on a source lasts (fetch.lease); a poll renews it when half of it is left. */
  leaseMs: () => number;
  /** Polls in flight at most: a tick claims no more than makes up this number, so that other pollers get their share. */
  maxPolls: () => number;
  /** This process in the cluster (clusterOwner()). */
  owner: string;
  log: Logger;
  now?: () => number;
}

/** A name for this process in the cluster: its host, its pid and a random part (a pid is reused after a restart). */
export function clusterOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A cron schedule has no interval of its own; failures back off from this one. */
const CRON_BACKOFF_BASE_MS = 15 * 60_000;
/** While claims come back full, finished polls are replaced this soon (in batches: a claim reads every source's due time). */
const REFILL_MS = 100;

interface Running {
  done: Promise<void>;
  lease: Lease;
  /** Stops this poll alone (its lease was lost). */
  controller: AbortController;
}

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Running>();
  /** Next poll times the database could not take (it was full or read-only), kept until it can. */
  private readonly pending = new Map<string, number>();
  private readonly abort = new AbortController();
  private heartbeat: ScheduledTask | undefined;
  private stopping = false;
  /** A tick claiming sources: the next one waits for it (the first runs at start and with the heartbeat). */
  private ticking: Promise<void> | undefined;
  /** The last claim got as many sources as it asked for: more may be due, so a finished poll makes room for them soon. */
  private full = false;
  /** The tick that fills the room finished polls made, before the next heartbeat (one per REFILL_MS at most). */
  private refill: NodeJS.Timeout | undefined;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.heartbeat !== undefined && !this.stopping;
  }

  start(): void {
    this.heartbeat = cron.schedule('* * * * * *', () => this.tick(), { name: 'newsloom-scheduler', noOverlap: true });
    void this.tick();
  }

  /** Renews the leases of polls in flight, and starts a poll of every enabled source that is due and that this process could claim. */
  tick(): Promise<void> {
    this.ticking ??= this.startDue()
      // The store could not say which sources are due (its disk failed, the database is away): the next heartbeat asks again.
      .catch((err: unknown) => this.options.log.error({ err }, `the scheduler cannot claim the due sources: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async startDue(): Promise<void> {
    const now = this.now();
    await this.renew(now);
    const room = this.options.maxPolls() - this.inFlight.size;
    if (this.stopping || room <= 0) return;
    const wanted = this.options
      .sources()
      .filter((source) => source.enabled && !this.inFlight.has(source.id) && (this.pending.get(source.id) ?? 0) <= now);
    this.full = false;
    if (wanted.length === 0) return;
    const { cluster } = this.options.store;
    const leases = await cluster.claim(this.options.owner, wanted.map((source) => source.id), now, this.options.leaseMs(), room);
    this.full = leases.length === room;
    const byId = new Map(wanted.map((source) => [source.id, source]));
    for (const lease of leases) {
      const source = byId.get(lease.sourceId)!;
      if (this.stopping) {
        await cluster.release(lease);
        continue;
      }
      const controller = new AbortController();
      const running: Running = { lease, controller, done: Promise.resolve() };
      running.done = this.run(source, running).finally(() => {
        this.inFlight.delete(source.id);
        if (this.full && !this.stopping) {
          this.refill ??= setTimeout(() => {
            this.refill = undefined;
            void this.tick();
          }, REFILL_MS).unref();
        }
      });
      this.inFlight.set(source.id, running);
    }
  }

  /** Extends the leases of polls in flight that have less than half their time left; a poll whose lease is lost stops. */
  private async renew(now: number): Promise<void> {
    const leaseMs = this.options.leaseMs();
    const due = [...this.inFlight.values()].filter((running) => running.lease.until - now < leaseMs / 2);
    if (due.length === 0) return;
    const renewed = new Map((await this.options.store.cluster.renew(this.options.owner, due.map((r) => r.lease), now, leaseMs)).map((l) => [l.sourceId, l]));
    for (const running of due) {
      const lease = renewed.get(running.lease.sourceId);
      if (lease?.token === running.lease.token) {
        running.lease = lease;
      } else {
        this.options.log.warn({ source: running.lease.sourceId }, `${running.lease.sourceId}: the poll's lease was lost (another poller has the source): stopping the poll, storing nothing`);
        running.controller.abort(new LeaseLostError(running.lease));
      }
    }
  }

  private async run(source: SourceConfig, running: Running): Promise<void> {
    const { store, log } = this.options;
    try {
      const result = await this.options.poll(source, AbortSignal.any([this.abort.signal, running.controller.signal]), running.lease);
      // Fenced out (the poll said so): the source and its schedule are another poller's.
      if (result.error?.kind === 'lease') return;
      const now = this.now();
      const state = await store.sources.get(source.id);
      const interval =
        source.every.kind === 'auto'
          ? autoInterval(await store.sources.activity(source.id, now - ACTIVITY_WINDOW_MS), [state?.ttlMs, result.maxAgeMs], this.options.autoBounds(), now)
          : CRON_BACKOFF_BASE_MS;
      const outcome = { ok: result.status !== 'error', failures: state?.errorCount ?? 0, retryAt: result.error?.retryAt };
      let next = nextPollAt(source.every, outcome, interval, now);
      try {
        await fencedWrite(store, running.lease, (tx) => {
          // A reload that changed the source meanwhile made it due at once: this poll's next time must not undo that.
          // Asked in the transaction, since the group commit runs it later (a reload may come in between).
          if (changed(source, this.options.sources())) next = now;
          return tx.sources.scheduleNext(source.id, next);
        });
        this.pending.delete(source.id);
      } catch (err) {
        // The poll outlived its lease: the source and its schedule are another poller's now.
        if (err instanceof LeaseLostError) return log.warn({ source: source.id }, `${source.id}: the poll's lease was lost before its next poll time was recorded`);
        // The database cannot take the schedule (disk full, read-only): keep it in memory meanwhile.
        const problem = storageProblem(err);
        if (!problem) throw err;
        this.pending.set(source.id, next);
        log.error({ source: source.id, error: 'storage' }, `${source.id}: cannot record the next poll: ${problem}`);
      }
    } catch (err) {
      // pollSource turns every failure of a source into a result; reaching here is a bug, not a bad feed.
      log.error({ err, source: source.id }, `${source.id}: poll crashed`);
    } finally {
      // Released after its next poll time is written, so that no other poller takes it as still due.
      await store.cluster.release(running.lease).catch((err: unknown) => log.warn({ err, source: source.id }, `${source.id}: cannot release the poll's lease (it ends by itself)`));
    }
  }

  /** Stops scheduling, lets polls in flight finish for up to graceMs, then cancels them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.refill);
    await this.heartbeat?.destroy();
    await this.ticking;
    const all = Promise.allSettled([...this.inFlight.values()].map((running) => running.done));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([all, timer])) === 'timeout') {
      this.options.log.warn({ polls: [...this.inFlight.keys()] }, 'polls still running at shutdown: cancelling them');
      this.abort.abort(new Error('shutting down'));
      await all;
    }
  }
}

/** Whether the config now says something else of this source than when its poll started (or no longer names it). */
function changed(source: SourceConfig, sources: SourceConfig[]): boolean {
  const current = sources.find((s) => s.id === source.id);
  return current !== source && JSON.stringify(current) !== JSON.stringify(source);
}

/** One pass over the given sources (the `fetch` command); the host limiter paces their requests. */
export function pollOnce(sources: SourceConfig[], poll: (source: SourceConfig) => Promise<PollResult>): Promise<PollResult[]> {
  return Promise.all(sources.map(poll));
}
