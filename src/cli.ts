#!/usr/bin/env node
// The newsloom command line: run the daemon (default), check a config, fetch once, probe health.
import { parseArgs } from 'node:util';
import { configPath, ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { openPipeline, SHUTDOWN_GRACE_MS, startDaemon } from './daemon.ts';
import { createLogger } from './log.ts';
import { pollSource } from './pipeline/ingest.ts';
import { housekeep } from './scheduler/housekeeping.ts';
import { pollOnce } from './scheduler/scheduler.ts';

const USAGE = `usage: newsloom [command] [--config FILE]

commands:
  run                 run the daemon: poll sources on schedule and serve feeds (default)
  check               validate the config (and NEWSLOOM_* environment) and say what is wrong, or ok
  fetch [--source ID] poll every enabled source once (or one source), print a summary, exit
  prune               delete items past retention.items now (keeping their fingerprints), optimize the database
  healthcheck         exit 0 when the daemon on the configured port answers /healthz

options:
  -c, --config FILE   the config file (default: $NEWSLOOM_CONFIG or config/newsloom.yaml)
  -h, --help          this text
`;

type Flags = { config?: string; source?: string };

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      source: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'run';
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const commands: Record<string, (flags: Flags) => Promise<number>> = { run, check, fetch, prune, healthcheck };
  const handler = commands[command];
  if (!handler) {
    process.stderr.write(`newsloom: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  return handler(values);
}

/** Loads the config or prints why it cannot be loaded. */
function load(flags: Flags): Config | undefined {
  const file = configPath(flags.config);
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`newsloom: invalid config\n${err.message}\n`);
    return undefined;
  }
}

function check(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return Promise.resolve(1);
  const enabled = config.sources.filter((s) => s.enabled).length;
  process.stdout.write(
    `ok: ${configPath(flags.config)} — ${config.sources.length} sources (${enabled} enabled), ${config.topics.length} topics, ${config.outputs.length} outputs\n`,
  );
  return Promise.resolve(0);
}

async function run(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const log = createLogger(config.log.level);
  const daemon = await startDaemon(config, log);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      log.info({ signal }, `received ${signal}: finishing polls in flight, then stopping`);
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      daemon.stop(SHUTDOWN_GRACE_MS).then(resolve, (err: unknown) => {
        log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  return 0;
}

async function fetch(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const sources = flags.source ? config.sources.filter((s) => s.id === flags.source) : config.sources.filter((s) => s.enabled);
  if (flags.source && sources.length === 0) {
    process.stderr.write(`newsloom: no source "${flags.source}" in the config (known: ${config.sources.map((s) => s.id).join(', ')})\n`);
    return 2;
  }
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const ctx = openPipeline(config, log);
  try {
    const results = await pollOnce(sources, (source) => pollSource(ctx, source), config.fetch.concurrency);
    const rows = results.map((r) => [r.sourceId, r.status, String(r.new), String(r.updated), String(r.unchanged), `${r.durationMs} ms`, r.error ? `${r.error.kind}: ${r.error.message}` : '']);
    process.stdout.write(table(['source', 'status', 'new', 'updated', 'unchanged', 'time', 'error'], rows));
    return results.some((r) => r.status === 'error') ? 1 : 0;
  } finally {
    ctx.store.close();
  }
}

function prune(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return Promise.resolve(1);
  const ctx = openPipeline(config, createLogger(config.log.level === 'info' ? 'warn' : config.log.level));
  try {
    const result = housekeep(ctx);
    process.stdout.write(`pruned ${result.items} items and ${result.stories} stories, forgot ${result.tombstones} fingerprints; ${ctx.store.items.count()} items remain\n`);
    return Promise.resolve(0);
  } finally {
    ctx.store.close();
  }
}

async function healthcheck(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  try {
    const response = await globalThis.fetch(`http://${host}:${config.server.port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    process.stdout.write(`${response.status} ${await response.text()}`);
    return response.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`newsloom: no answer from http://${host}:${config.server.port}/healthz: ${(err as Error).message}\n`);
    return 1;
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`newsloom: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
