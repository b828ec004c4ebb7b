// Wires the daemon together: store, pipeline, scheduler and HTTP server, and takes them down in order.
// It also applies a reloaded config to all of them while they run. Its role says which parts run: all of them, the
// poller's (scheduler, housekeeping, re-tagging; HTTP for the operators only) or the web replica's (HTTP, read-only store).
import { ConfigError, loadConfig } from './config/load.ts';
import { diffSources, restartRequired, watchConfigFile } from './config/reload.ts';
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { pollSource, type PipelineContext } from './pipeline/ingest.ts';
import { needsRetag, retagAll, type RetagReport } from './pipeline/retag.ts';
import { compileTopics, type Tagger } from './pipeline/tagger.ts';
import { opsRoutes } from './publish/ops.ts';
import { startServer } from './publish/server.ts';
import { HostLimiter, hostLimits, type SharedHosts } from './sources/hosts.ts';
import { startHousekeeping } from './scheduler/housekeeping.ts';
import { clusterOwner, Scheduler } from './scheduler/scheduler.ts';
import { describeStorage, lockStore, openStore, type ClusterStore, type DaemonLock, type Store, type StoreOptions } from './store/store.ts';
import { BackgroundThread } from './background.ts';
import { inlinePreparer, workerPreparer } from './pipeline/prepare.ts';

/** Told about every config change the daemon applied; the place to re-tag stored items when topics change. */
export type ConfigChangeListener = (change: { previous: Config; next: Config; context: PipelineContext }) => void | Promise<void>;

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
  metrics: Metrics;
  /** Listeners run after each applied config change, in order. */
  onConfigChange: ConfigChangeListener[];
  /** Reads the config file again and applies it; an invalid file is logged and the running config kept. */
  reload(): Promise<boolean>;
  /** Applies a validated config to the running daemon: sources, topics, outputs, fetch settings, log level. */
  applyConfig(next: Config): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** What a process of newsloom does: everything (one machine), poll (and keep the database), or serve from it. */
export const ROLES = ['all', 'poller', 'web'] as const;
export type Role = (typeof ROLES)[number];

export interface DaemonOptions {
  /** `all` (the default): poll and serve; `poller`: poll, housekeeping, re-tagging, and only the operators' endpoints; `web`: serve every page from a read-only store. */
  role?: Role;
  /** Start polling right away (the default); tests may drive polls themselves. */
  schedule?: boolean;
  now?: () => number;
  /** The file the config came from: reload() reads it, and a change to it reloads by itself. */
  configFile?: string;
  /** Environment for reloads (NEWSLOOM_* overrides and *_FILE secrets); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long a burst of writes to the config file must settle before it is reloaded. */
  watchDebounceMs?: number;
}

export const SHUTDOWN_GRACE_MS = 10_000;
const WATCH_DEBOUNCE_MS = 500;
/** Housekeeping is held for this long by the process that runs it: every process's cron fires at the same minute, and only the first to ask runs it. */
const HOUSEKEEPING_LEASE_MS = 3_600_000;
/** Re-tagging is held in leases this long, renewed a third of the way through while it runs. */
const RETAG_LEASE_MS = 5 * 60_000;
/**
 * A cluster host slot outlives its request (at most fetch.timeout, body included) by this much before it stops counting:
 * room for the pollers' clocks to differ a little. It was a minute, and a killed poller's slots then kept its hosts
 * closed to every other poller for longer than its leases held its sources (tests/cluster-processes.test.ts).
 */
const HOST_SLOT_MARGIN_MS = 5_000;
/** Polls in flight per request slot (fetch.concurrency): enough to keep the slots busy, few enough to leave other pollers their share. */
const POLLS_PER_SLOT = 4;

/** Opens the store and the pipeline context, for the daemon and for one-shot commands alike. */
export interface PipelineOptions {
  /**
   * Run as the daemon does: feeds are prepared (decoded, parsed, normalized) and the search index is kept on a
   * background thread, so that the main thread stores and serves. One-shot commands and tests do both inline.
   */
  workers?: boolean;
  /** Told when the background thread cannot keep the search index (it tries again by itself). */
  onSearchError?: StoreOptions['onSearchError'];
  /** Only read the store (a web replica): nothing is migrated, synced or written. */
  readOnly?: boolean;
  /** How long to wait for a PostgreSQL server that cannot be reached at start (the daemon waits for ever; commands 10 s). */
  connectTimeoutMs?: number;
}

export async function openPipeline(config: Config, log: Logger, now: () => number = Date.now, options: PipelineOptions = {}): Promise<PipelineContext> {
  const background = options.workers ? new BackgroundThread() : undefined;
  let store;
  try {
    store = await openStore(config.storage, {
      background,
      readOnly: options.readOnly,
      now,
      onSearchError: options.onSearchError,
      onSearchBuild: (message) => log.info({ component: 'search' }, message),
      onMigration: ({ version, name }) => log.info({ migration: version }, `database: applying migration ${version} (${name})`),
      onWait: (message) => log.warn({ component: 'database' }, message),
      connectTimeoutMs: options.connectTimeoutMs,
    });
  } catch (err) {
    void background?.close();
    throw err;
  }
  let context;
  try {
    context = await pipelineOn(store, config, log, now, { sync: !options.readOnly });
  } catch (err) {
    await store.close();
    void background?.close();
    throw err;
  }
  if (background) {
    context.preparer = workerPreparer(background);
    context.background = background;
  }
  return context;
}

/** Closes what openPipeline opened: the store and the background thread. */
export async function closePipeline(context: PipelineContext): Promise<void> {
  await context.store.close();
  await context.background?.close();
}

/** The pipeline context over a store that is already open; its sources get their rows unless `sync` is false (a read-only store). */
export async function pipelineOn(store: Store, config: Config, log: Logger, now: () => number = Date.now, options: { sync?: boolean } = {}): Promise<PipelineContext> {
  if (options.sync !== false) await store.sources.sync(config.sources);
  const owner = clusterOwner();
  const context: PipelineContext = {
    config,
    store,
    tagger: compileTopics(config.topics),
    log,
    now,
    owner,
    hosts: new HostLimiter(() => hostLimits(context.config), sharedHosts(store.cluster, owner, () => context.config, log)),
    preparer: inlinePreparer,
  };
  return context;
}

/** The cluster's host slots as the host limiter asks for them; released and blocked in the background (a slot left behind ends by itself). */
function sharedHosts(cluster: ClusterStore, owner: string, config: () => Config, log: Logger): SharedHosts {
  const failed = (what: string) => (err: unknown) => log.warn({ err }, `cannot ${what} in the database: ${err instanceof Error ? err.message : String(err)}`);
  return {
    acquire: async (key, limits, now) => {
      const answer = await cluster.acquireHost(owner, key, limits, now, config().fetch.timeout + HOST_SLOT_MARGIN_MS);
      if (!('slot' in answer)) return answer;
      return { release: () => void cluster.releaseHost(answer.slot).catch(failed(`release a request slot at ${key}`)) };
    },
    block: (key, until) => void cluster.blockHost(key, until).catch(failed(`record the Retry-After of ${key}`)),
  };
}

export async function startDaemon(config: Config, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const role = options.role ?? 'all';
  const polls = role !== 'web';
  // Before the database is opened (and perhaps migrated): a second daemon on it stops here. A web replica only reads, beside it.
  const lock: DaemonLock = polls ? lockStore(config.storage) : { release: () => {} };
  let context: PipelineContext;
  try {
    // Parsing feeds and keeping the search index happen on the background thread, so that they never hold up storing or serving.
    context = await openPipeline(config, log, options.now, {
      workers: polls,
      readOnly: !polls,
      onSearchError: (message) => log.warn({ component: 'search' }, message),
      connectTimeoutMs: Infinity,
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  const { store } = context;
  const metrics = createMetrics(store, () => context.config);
  const scheduler = new Scheduler({
    sources: () => context.config.sources,
    poll: async (source, signal, lease) => {
      const result = await pollSource(context, source, signal, lease);
      metrics.observePoll(result);
      return result;
    },
    store,
    autoBounds: () => ({ minMs: context.config.fetch.auto_min, maxMs: context.config.fetch.auto_max }),
    leaseMs: () => context.config.fetch.lease,
    maxPolls: () => context.config.fetch.concurrency * POLLS_PER_SLOT,
    owner: context.owner,
    log,
    now: context.now,
  });
  let server;
  try {
    if (polls) {
      // The story index in memory is built from the recent story prints before the first poll needs it.
      const started = performance.now();
      const reports = await store.stories.load(context.now(), config.dedup.window);
      log.info({ reports, ms: Math.round(performance.now() - started) }, `story index: ${reports} recent reports`);
    }
    server = await startServer({
      config: () => context.config,
      store,
      log,
      opsOnly: role === 'poller',
      intercept: opsRoutes({ store, scheduler: polls ? scheduler : undefined, metrics, log }),
    });
  } catch (err) {
    await closePipeline(context);
    lock.release();
    throw err;
  }
  if (polls && options.schedule !== false) scheduler.start();
  /** Re-tags the stored items when their tags come from other rules, if this process gets the cluster's re-tagging task (held while it runs). */
  const retagStored = async (tagger: Tagger, controller: AbortController): Promise<RetagReport | undefined> => {
    if (!polls || !(await needsRetag(store, tagger))) return undefined;
    const hold = (ms: number) => store.cluster.holdTask(context.owner, 'retag', context.now(), ms);
    if (!(await hold(RETAG_LEASE_MS))) {
      log.info('the stored items are being re-tagged by another poller');
      // Asked again once that lease could have run out: if its poller died, this one takes over.
      setTimeout(() => controller.signal.aborted || void applyTopics(), RETAG_LEASE_MS).unref();
      return undefined;
    }
    const renew = setInterval(() => {
      hold(RETAG_LEASE_MS).then(
        (held) => held || controller.abort(),
        (err: unknown) => log.warn({ err }, 'cannot renew the re-tagging task'),
      );
    }, RETAG_LEASE_MS / 3);
    try {
      return await retagAll(store, tagger, log, { signal: controller.signal });
    } finally {
      clearInterval(renew);
      // Given back at once (held for no time), so that a later change of the rules is taken up by whoever sees it.
      await hold(0).catch(() => false);
    }
  };
  let retag = { controller: new AbortController(), done: Promise.resolve<RetagReport | undefined>(undefined) };
  const applyTopics = () => {
    retag.controller.abort();
    const tagger = (context.tagger = compileTopics(context.config.topics));
    const controller = new AbortController();
    const done = retag.done
      .then(() => retagStored(tagger, controller))
      .catch((err: unknown) => {
        log.error({ err }, 're-tagging stored items failed');
        return undefined;
      });
    retag = { controller, done };
    return done;
  };
  void applyTopics();
  const housekeeping = polls && options.schedule !== false ? startHousekeeping(context, HOUSEKEEPING_LEASE_MS) : undefined;
  const enabled = config.sources.filter((s) => s.enabled).length;
  log.info(
    { role, listening: server.listening, url: server.url, sources: enabled, database: describeStorage(config.storage) },
    `newsloom listening on ${server.listening} (${server.url}), ${polls ? `polling ${enabled} sources` : 'serving from the database, read-only'}${role === 'all' ? '' : ` (--role ${role})`}`,
  );

  const onConfigChange: ConfigChangeListener[] = [];

  const applyConfig = async (next: Config) => {
    const previous = context.config;
    const sources = diffSources(previous.sources, next.sources);
    context.config = next;
    // New items get the new rules at once; stored items are re-tagged in the background when they changed.
    void applyTopics();
    log.level = next.log.level;
    if (polls) {
      await store.sources.sync(next.sources);
      // New and changed sources are polled at the next heartbeat, so an edit shows its effect at once;
      // removed ones are no longer offered to the scheduler (their stored items stay).
      for (const id of [...sources.added, ...sources.changed]) await store.sources.scheduleNext(id, context.now());
    }
    const restart = restartRequired(previous, next);
    if (restart.length > 0) log.warn({ fields: restart }, `config reloaded, but ${restart.join(', ')} only change${restart.length === 1 ? 's' : ''} at restart`);
    log.info(
      { ...sources, topics: next.topics.length, outputs: next.outputs.length },
      `config reloaded: ${sources.added.length} sources added, ${sources.removed.length} removed, ${sources.changed.length} changed`,
    );
    for (const listener of onConfigChange) {
      Promise.resolve()
        .then(() => listener({ previous, next, context }))
        .catch((err: unknown) => log.error({ err }, 'a config change listener failed'));
    }
  };

  const reload = async (): Promise<boolean> => {
    if (!options.configFile) return false;
    let next: Config;
    try {
      next = loadConfig(options.configFile, options.env ?? process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error({ problems: err.problems.length }, `config reload rejected, keeping the running config: ${err.message.replaceAll('\n', '; ')}`);
      return false;
    }
    await applyConfig(next);
    return true;
  };

  const watcher =
    options.configFile === undefined
      ? undefined
      : watchConfigFile(options.configFile, options.watchDebounceMs ?? WATCH_DEBOUNCE_MS, {
          change: () => {
            log.info({ file: options.configFile }, 'the config file changed: reloading it');
            reload().catch((err: unknown) => log.error({ err }, 'applying the reloaded config failed'));
          },
          error: (err) => log.warn({ err }, 'cannot watch the config file any more; send SIGHUP to reload it'),
        });

  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    context,
    scheduler,
    applyTopics,
    get retagging() {
      return retag.done;
    },
    metrics,
    onConfigChange,
    reload,
    applyConfig,
    stop(graceMs = SHUTDOWN_GRACE_MS) {
      stopped ??= (async () => {
        watcher?.close();
        retag.controller.abort();
        await retag.done;
        await housekeeping?.destroy();
        await scheduler.stop(graceMs);
        await server.close();
        await closePipeline(context);
        lock.release();
        log.info('newsloom stopped');
      })();
      return stopped;
    },
  };
}
