// Wires the daemon together: store, pipeline, scheduler and HTTP server, and takes them down in order.
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';
import { pollSource, type PipelineContext } from './pipeline/ingest.ts';
import { compileTopics } from './pipeline/tagger.ts';
import { startServer } from './publish/server.ts';
import { startHousekeeping } from './scheduler/housekeeping.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { openStore } from './store/store.ts';

export interface Daemon {
  /** Where the HTTP server listens. */
  url: string;
  context: PipelineContext;
  scheduler: Scheduler;
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  /** Start polling right away (the default); tests may drive polls themselves. */
  schedule?: boolean;
  now?: () => number;
}

export const SHUTDOWN_GRACE_MS = 10_000;

/** Opens the store and the pipeline context, for the daemon and for one-shot commands alike. */
export function openPipeline(config: Config, log: Logger, now: () => number = Date.now): PipelineContext {
  const store = openStore(config.storage.path);
  store.sources.sync(config.sources);
  return { config, store, tagger: compileTopics(config.topics), log, now };
}

export async function startDaemon(config: Config, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const context = openPipeline(config, log, options.now);
  const { store } = context;
  let server;
  try {
    server = await startServer({ config: () => context.config, store, log });
  } catch (err) {
    store.close();
    throw err;
  }
  const scheduler = new Scheduler({
    sources: () => context.config.sources,
    poll: (source, signal) => pollSource(context, source, signal),
    store,
    concurrency: () => context.config.fetch.concurrency,
    log,
    now: context.now,
  });
  if (options.schedule !== false) scheduler.start();
  const housekeeping = options.schedule !== false ? startHousekeeping(context) : undefined;
  const enabled = config.sources.filter((s) => s.enabled).length;
  log.info({ url: server.url, sources: enabled, database: config.storage.path }, `newsloom serving on ${server.url}, polling ${enabled} sources`);
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    context,
    scheduler,
    stop(graceMs = SHUTDOWN_GRACE_MS) {
      stopped ??= (async () => {
        await housekeeping?.destroy();
        await scheduler.stop(graceMs);
        await server.close();
        store.close();
        log.info('newsloom stopped');
      })();
      return stopped;
    },
  };
}
