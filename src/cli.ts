#!/usr/bin/env node
// The newsloom command line: run the daemon (default), check a config, fetch once, probe health,
// back up the database, and move sources in and out as OPML.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { unknownVariables, variablesInEffect } from './config/env.ts';
import { configPath, ConfigError, loadConfig, parseConfig } from './config/load.ts';
import { addFeedsToConfig, parseOpml, renderOpml } from './config/opml.ts';
import type { Config } from './config/schema.ts';
import { openPipeline, SHUTDOWN_GRACE_MS, startDaemon } from './daemon.ts';
import { createLogger } from './log.ts';
import { pollSource } from './pipeline/ingest.ts';
import { pollOnce } from './scheduler/scheduler.ts';
import { backupDatabase } from './store/backup.ts';

const USAGE = `usage: newsloom [command] [--config FILE]

commands:
  run                 run the daemon: poll sources on schedule and serve feeds (default)
  check               validate the config (and NEWSLOOM_* environment) and say what is wrong, or ok
  fetch [--source ID] poll every enabled source once (or one source), print a summary, exit
  healthcheck         exit 0 when the daemon on the configured port answers /healthz
  backup FILE         write a consistent copy of the database to FILE (safe while the daemon runs)
  import-opml FILE    add the feeds of an OPML file to the config file as sources (comments kept)
  export-opml         print the feed sources of the config as OPML

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
  const commands: Record<string, (flags: Flags, args: string[]) => Promise<number>> = {
    run,
    check,
    fetch,
    healthcheck,
    backup,
    'import-opml': importOpml,
    'export-opml': exportOpml,
  };
  const handler = commands[command];
  if (!handler) {
    process.stderr.write(`newsloom: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  return handler(values, positionals.slice(1));
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
  const ids = config.sources.map((s) => s.id);
  const unknown = unknownVariables(process.env, ids);
  if (unknown.length > 0) {
    process.stderr.write(`newsloom: invalid environment\n${unknown.map((name) => `environment ${name}: ${UNKNOWN_VARIABLE}`).join('\n')}\n`);
    return Promise.resolve(1);
  }
  const enabled = config.sources.filter((s) => s.enabled).length;
  const environment = variablesInEffect(process.env, ids);
  process.stdout.write(
    `ok: ${configPath(flags.config)} — ${config.sources.length} sources (${enabled} enabled), ${config.topics.length} topics, ${config.outputs.length} outputs` +
      `${environment.length > 0 ? `; from the environment: ${environment.join(', ')}` : ''}\n`,
  );
  return Promise.resolve(0);
}

const UNKNOWN_VARIABLE = 'newsloom does not read this variable (a typo, or NEWSLOOM_SOURCE_<ID>_… for an id no source has)';

async function run(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const log = createLogger(config.log.level);
  const unknown = unknownVariables(process.env, config.sources.map((s) => s.id));
  if (unknown.length > 0) log.warn({ variables: unknown }, `ignoring ${unknown.join(', ')}: ${UNKNOWN_VARIABLE}`);
  // Listening before the daemon starts: as PID 1 in a container, a SIGTERM nobody handles is ignored.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const daemon = await startDaemon(config, log, { configFile: configPath(flags.config) });
  const reload = () => {
    log.info('received SIGHUP: reloading the config');
    daemon.reload();
  };
  process.on('SIGHUP', reload);
  const signal = await stopSignal;
  process.off('SIGHUP', reload);
  log.info({ signal }, `received ${signal}: finishing polls in flight, then stopping`);
  await daemon.stop(SHUTDOWN_GRACE_MS).catch((err: unknown) => log.error({ err }, 'error while stopping'));
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

async function backup(flags: Flags, args: string[]): Promise<number> {
  const target = args[0];
  if (!target) {
    process.stderr.write('newsloom: backup needs a FILE to write the copy to\n');
    return 2;
  }
  const config = load(flags);
  if (!config) return 1;
  try {
    const result = await backupDatabase(config.storage.path, target);
    process.stdout.write(`backed up ${config.storage.path} to ${result.file}: ${result.pages} pages, ${result.bytes} bytes, integrity ${result.integrity}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`newsloom: backup of ${config.storage.path} failed: ${(err as Error).message}\n`);
    return 1;
  }
}

function importOpml(flags: Flags, args: string[]): Promise<number> {
  const opmlFile = args[0];
  if (!opmlFile) {
    process.stderr.write('newsloom: import-opml needs the OPML FILE to read\n');
    return Promise.resolve(2);
  }
  const file = configPath(flags.config);
  if (!load(flags)) return Promise.resolve(1);
  let feeds;
  try {
    feeds = parseOpml(readFileSync(opmlFile, 'utf8'));
  } catch (err) {
    process.stderr.write(`newsloom: cannot import ${opmlFile}: ${(err as Error).message}\n`);
    return Promise.resolve(1);
  }
  const result = addFeedsToConfig(readFileSync(file, 'utf8'), feeds, `imported from ${opmlFile} on ${new Date().toISOString().slice(0, 10)}`);
  for (const skip of result.skipped) process.stdout.write(`skipped ${skip.url}: ${skip.reason}\n`);
  if (result.added.length > 0) {
    try {
      // The new text passes the same validation as any config before it replaces the file.
      parseConfig(result.text, file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`newsloom: the imported feeds would make the config invalid; ${file} is unchanged\n${err.message}\n`);
      return Promise.resolve(1);
    }
    writeFileSync(file, result.text);
  }
  for (const add of result.added) process.stdout.write(`added ${add.id}: ${add.title} <${add.url}>\n`);
  process.stdout.write(`${result.added.length} sources added to ${file}, ${result.skipped.length} skipped\n`);
  return Promise.resolve(0);
}

function exportOpml(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return Promise.resolve(1);
  process.stdout.write(renderOpml(config.sources, 'newsloom sources', new Date()));
  return Promise.resolve(0);
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
