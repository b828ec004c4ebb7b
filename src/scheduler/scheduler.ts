// Polls each enabled source when it is due: a node-cron heartbeat looks for due sources every second,
// and a source never has two polls at once. How many requests go out together, and to which host, is
// the host limiter's business (src/sources/hosts.ts): a poll waiting for a busy host holds up no other.
import cron, { type ScheduledTask } from 'node-cron';
import type { SourceConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { PollResult } from '../pipeline/ingest.ts';
import { storageProblem, type Store } from '../store/store.ts';
import { ACTIVITY_WINDOW_MS, autoInterval, nextPollAt, type AutoBounds } from './schedule.ts';

export interface SchedulerOptions {
  sources: () => SourceConfig[];
  poll: (source: SourceConfig, signal: AbortSignal) => Promise<PollResult>;
  store: Store;
  /** The bounds of `every: auto` intervals (fetch.auto_min, fetch.auto_max). */
  autoBounds: () => AutoBounds;
  log: Logger;
  now?: () => number;
}

/** A cron schedule has no interval of its own; failures back off from this one. */
const CRON_BACKOFF_BASE_MS = 15 * 60_000;

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Next poll times the database could not take (it was full or read-only), kept until it can. */
  private readonly pending = new Map<string, number>();
  private readonly abort = new AbortController();
  private heartbeat: ScheduledTask | undefined;
  private stopping = false;
  /** A tick reading due times: the next one waits for it (the first runs at start and with the heartbeat). */
  private ticking: Promise<void> | undefined;

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

  /** Starts a poll of every enabled source whose time has come and that is not polling already. */
  tick(): Promise<void> {
    this.ticking ??= this.startDue()
      // The store could not say which sources are due (its disk failed): the next heartbeat asks again.
      .catch((err: unknown) => this.options.log.error({ err }, `the scheduler cannot read the sources' next poll times: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async startDue(): Promise<void> {
    const now = this.now();
    for (const source of this.options.sources()) {
      if (this.stopping) return;
      if (!source.enabled || this.inFlight.has(source.id)) continue;
      const due = this.pending.get(source.id) ?? (await this.options.store.sources.get(source.id))?.nextPollAt ?? 0;
      if (due > now) continue;
      const run = this.run(source).finally(() => this.inFlight.delete(source.id));
      this.inFlight.set(source.id, run);
    }
  }

  private async run(source: SourceConfig): Promise<void> {
    try {
      const result = await this.options.poll(source, this.abort.signal);
      const { store } = this.options;
      const now = this.now();
      const state = await store.sources.get(source.id);
      const interval =
        source.every.kind === 'auto'
          ? autoInterval(await store.sources.activity(source.id, now - ACTIVITY_WINDOW_MS), [state?.ttlMs, result.maxAgeMs], this.options.autoBounds(), now)
          : CRON_BACKOFF_BASE_MS;
      const outcome = { ok: result.status !== 'error', failures: state?.errorCount ?? 0, retryAt: result.error?.retryAt };
      const next = nextPollAt(source.every, outcome, interval, now);
      try {
        await store.sources.scheduleNext(source.id, next);
        this.pending.delete(source.id);
      } catch (err) {
        // The database cannot take the schedule (disk full, read-only): keep it in memory meanwhile.
        const problem = storageProblem(err);
        if (!problem) throw err;
        this.pending.set(source.id, next);
        this.options.log.error({ source: source.id, error: 'storage' }, `${source.id}: cannot record the next poll: ${problem}`);
      }
    } catch (err) {
      // pollSource turns every failure of a source into a result; reaching here is a bug, not a bad feed.
      this.options.log.error({ err, source: source.id }, `${source.id}: poll crashed`);
    }
  }

  /** Stops scheduling, lets polls in flight finish for up to graceMs, then cancels them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    await this.heartbeat?.destroy();
    const all = Promise.allSettled(this.inFlight.values());
    const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([all, timer])) === 'timeout') {
      this.options.log.warn({ polls: [...this.inFlight.keys()] }, 'polls still running at shutdown: cancelling them');
      this.abort.abort(new Error('shutting down'));
      await all;
    }
  }
}

/** One pass over the given sources (the `fetch` command); the host limiter paces their requests. */
export function pollOnce(sources: SourceConfig[], poll: (source: SourceConfig) => Promise<PollResult>): Promise<PollResult[]> {
  return Promise.all(sources.map(poll));
}
