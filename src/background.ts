// The daemon's one background thread (background-worker.ts): fetched feeds are prepared there (pipeline/prepare.ts)
// and the search index is kept there (store/search-index.ts), so that the main thread only stores and serves. One
// thread for both rather than one each: every thread has a V8 heap of its own, and memory is what a second one costs
// (BENCHMARKS.md). Each job is a service with a name; messages to and from it travel tagged with that name.
import { Worker, type TransferListItem } from 'node:worker_threads';

export interface Channel {
  post(message: unknown, transfer?: TransferListItem[]): void;
  /** Whether this service waits for an answer: while one does, the thread keeps the process alive. */
  waiting(waits: boolean): void;
  /** Stops the thread (it starts again for whoever needs it next), failing what was due: a job that hangs it. */
  restart(reason: string): void;
}

export interface Service {
  receive(message: unknown): void;
  /** The thread (re)started: tell it again what to do. */
  started(): void;
  /** The thread stopped: answers that were due will not come. */
  stopped(reason: string): void;
}

const SCRIPT = new URL(import.meta.url.endsWith('.ts') ? './background-worker.ts' : './background-worker.js', import.meta.url);
const RESTART_MS = 1_000;

export class BackgroundThread {
  private worker: Worker | undefined;
  private readonly services = new Map<string, Service>();
  private readonly waits = new Set<string>();
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly maxHeapMb: number;

  /** `maxHeapMb`: the thread's heap limit; a job that needs more stops it (and fails), the thread starts again. */
  constructor(options: { maxHeapMb?: number } = {}) {
    this.maxHeapMb = options.maxHeapMb ?? 512;
  }

  /** Adds a service; the thread starts when the first one is added. */
  attach(name: string, service: Service): Channel {
    this.services.set(name, service);
    // Once the caller holds its channel (started() may post on it).
    queueMicrotask(() => {
      if (this.worker) service.started();
      else this.start();
    });
    return {
      post: (message, transfer = []) => {
        const worker = this.start();
        worker?.postMessage({ to: name, message }, transfer);
      },
      waiting: (waits) => {
        if (waits) this.waits.add(name);
        else this.waits.delete(name);
        if (this.waits.size > 0) this.worker?.ref();
        else this.worker?.unref();
      },
      restart: (reason) => this.stop(reason),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.worker = undefined;
    for (const service of this.services.values()) service.stopped('newsloom is stopping');
    if (worker) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ to: '*', message: 'stop' });
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** The running thread, started if it is not running. */
  private start(): Worker | undefined {
    if (this.closed) return undefined;
    if (this.worker) return this.worker;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    const worker = new Worker(SCRIPT, { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    this.worker = worker;
    if (this.waits.size === 0) worker.unref();
    worker.on('message', ({ from, message }: { from: string; message: unknown }) => this.services.get(from)?.receive(message));
    worker.on('error', (err: Error) => {
      if (this.worker === worker) this.stop(/memory/i.test(err.message) ? 'it needed more memory than the background thread may use' : `the background thread failed (${err.message})`);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.stop('the background thread stopped');
    });
    for (const service of this.services.values()) service.started();
    return worker;
  }

  private stop(reason: string): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const service of this.services.values()) service.stopped(reason);
    // Started again for whoever needs it next, or after a moment for the services that always do (the search index).
    if (!this.closed) this.restartTimer = setTimeout(() => this.start(), RESTART_MS).unref();
  }
}
