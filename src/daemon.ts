// Wires the daemon together: store, pipeline, scheduler and HTTP server, and takes them down in order.
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';
import { pollSource, type PipelineContext } from './pipeline/ingest.ts';
import { needsRetag, retagAll, type RetagReport } from './pipeline/retag.ts';
import { compileTopics } from './pipeline/tagger.ts';
import { startServer } from './publish/server.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { openStore } from './store/store.ts';

export interface Daemon {
  /** Where the HTTP server listens. */
  url: string;
  context: PipelineContext;
  scheduler: Scheduler;
  /**
   * Compiles the topics of `context.config` into the tagger new items get, and re-tags stored items in
   * the background when the rules differ from those the stored tags were computed with. Called at start;
   * call it again after replacing `context.config` (a reload). A run still going is stopped first.
   */
  applyTopics(): Promise<RetagReport | undefined>;
  /** The re-tagging run started last (undefined when the stored tags were already up to date). */
  readonly retagging: Promise<RetagReport | undefined>;
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
  let retag = { controller: new AbortController(), done: Promise.resolve<RetagReport | undefined>(undefined) };
  const applyTopics = () => {
    retag.controller.abort();
    context.tagger = compileTopics(context.config.topics);
    const controller = new AbortController();
    const done = needsRetag(store, context.tagger)
      ? retagAll(store, context.tagger, log, { signal: controller.signal }).catch((err: unknown) => {
          log.error({ err }, 're-tagging stored items failed');
          return undefined;
        })
      : Promise.resolve(undefined);
    retag = { controller, done };
    return done;
  };
  void applyTopics();
  const enabled = config.sources.filter((s) => s.enabled).length;
  log.info({ url: server.url, sources: enabled, database: config.storage.path }, `newsloom serving on ${server.url}, polling ${enabled} sources`);
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    context,
    scheduler,
    applyTopics,
    get retagging() {
      return retag.done;
    },
    stop(graceMs = SHUTDOWN_GRACE_MS) {
      stopped ??= (async () => {
        retag.controller.abort();
        await retag.done;
        await scheduler.stop(graceMs);
        await server.close();
        store.close();
        log.info('newsloom stopped');
      })();
      return stopped;
    },
  };
}
