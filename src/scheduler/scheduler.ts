// Polls each enabled source when it is due: a node-cron heartbeat looks for due sources every second,
// a source never has two polls at once, and at most `concurrency` polls run together.
import cron, { type ScheduledTask } from 'node-cron';
import type { SourceConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { PollResult } from '../pipeline/ingest.ts';
import type { Store } from '../store/store.ts';
import { backoffDelay, nextRegularPoll } from './schedule.ts';

export interface SchedulerOptions {
  sources: () => SourceConfig[];
  poll: (source: SourceConfig, signal: AbortSignal) => Promise<PollResult>;
  store: Store;
  concurrency: () => number;
  log: Logger;
  now?: () => number;
}

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly queue: SourceConfig[] = [];
  private readonly abort = new AbortController();
  private heartbeat: ScheduledTask | undefined;
  private stopping = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.heartbeat !== undefined && !this.stopping;
  }

  start(): void {
    this.heartbeat = cron.schedule('* * * * * *', () => this.tick(), { name: 'newsloom-scheduler', noOverlap: true });
    this.tick();
  }

  /** Queues every enabled source whose time has come and that is not already queued or polling. */
  tick(): void {
    if (this.stopping) return;
    const now = this.now();
    for (const source of this.options.sources()) {
      if (!source.enabled || this.inFlight.has(source.id) || this.queue.some((q) => q.id === source.id)) continue;
      const due = this.options.store.sources.get(source.id)?.nextPollAt ?? 0;
      if (due <= now) this.queue.push(source);
    }
    this.drain();
  }

  private drain(): void {
    while (!this.stopping && this.queue.length > 0 && this.inFlight.size < this.options.concurrency()) {
      const source = this.queue.shift()!;
      const run = this.run(source).finally(() => {
        this.inFlight.delete(source.id);
        this.drain();
      });
      this.inFlight.set(source.id, run);
    }
  }

  private async run(source: SourceConfig): Promise<void> {
    try {
      const result = await this.options.poll(source, this.abort.signal);
      const failures = this.options.store.sources.get(source.id)?.errorCount ?? 0;
      const now = this.now();
      const next = result.status === 'error' ? now + backoffDelay(source.every, failures) : nextRegularPoll(source.every, now);
      this.options.store.sources.scheduleNext(source.id, next);
    } catch (err) {
      // pollSource turns every failure of a source into a result; reaching here is a bug, not a bad feed.
      this.options.log.error({ err, source: source.id }, `${source.id}: poll crashed`);
    }
  }

  /** Stops scheduling, lets polls in flight finish for up to graceMs, then cancels them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
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

/** One pass over the given sources, at most `concurrency` at once (the `fetch` command). */
export async function pollOnce(
  sources: SourceConfig[],
  poll: (source: SourceConfig) => Promise<PollResult>,
  concurrency: number,
): Promise<PollResult[]> {
  const results: PollResult[] = new Array<PollResult>(sources.length);
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const index = next++;
      results[index] = await poll(sources[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  return results;
}
