#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=100
// The newsloom command line: run the daemon (default), check a config, fetch once, try a source's selectors,
// explain and re-apply tags, probe health, back up the database, and move sources in and out as OPML.
// The shebang caps V8's young generation at 8 MiB a semi-space: left alone it grows to 64 MiB (192 MiB of RSS for
// short-lived garbage) while a poll cycle allocates fast, and costs no measurable CPU (BENCHMARKS.md, poll cycle).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { unknownVariables, variablesInEffect } from './config/env.ts';
import { configPath, ConfigError, loadConfig, parseConfig } from './config/load.ts';
import { addFeedsToConfig, parseOpml, renderOpml } from './config/opml.ts';
import { configSchema, type Config, type SourceConfig } from './config/schema.ts';
import { formatDuration } from './config/units.ts';
import { openPipeline, SHUTDOWN_GRACE_MS, startDaemon } from './daemon.ts';
import { createLogger } from './log.ts';
import { EXIT, OperatorError } from './operator-error.ts';
import { pollSource } from './pipeline/ingest.ts';
import { exportSite } from './publish/export.ts';
import { sourceStatus } from './publish/status.ts';
import { retagAll } from './pipeline/retag.ts';
import { evaluate } from './pipeline/tagger.ts';
import type { TopicMatch } from './item.ts';
import { housekeep } from './scheduler/housekeeping.ts';
import { pollOnce } from './scheduler/scheduler.ts';
import { probeSource } from './sources/probe.ts';
import { backupStore, DatabaseHeldError, describeStorage, openStore } from './store/store.ts';

const USAGE = `usage: newsloom [command] [--config FILE]

commands:
  run                 run the daemon: poll sources on schedule and serve feeds (default)
  check               validate the config (and NEWSLOOM_* environment) and say what is wrong, or ok
  fetch [--source ID] poll every enabled source once (or one source), print a summary, exit
  sources             print each source's health: last success, next poll, errors, items, last error
  explain ITEM        say which topics an item has and why (ITEM: its number, uid or URL)
  retag               re-apply the topic rules of the config to every stored item now
  prune               delete items past retention.items now (keeping their fingerprints), optimize the database
  healthcheck         exit 0 when the daemon on the configured port answers /healthz
  try-source ID       fetch a source's page once and show what its selectors find: title, link, date
                      of each item, and every selector that found nothing; exit 1 when it is not usable
  try-source --url URL --item SEL [--title SEL] [--link SEL] [--date SEL] [--summary SEL] [--image SEL]
             [--timezone TZ] [--full-text SEL]
                      the same for an html page and selectors not in the config yet (a@href reads an attribute)
  backup FILE         write a consistent copy of the database to FILE (safe while the daemon runs)
  import-opml FILE    add the feeds of an OPML file to the config file as sources (comments kept)
  export-opml         print the feed sources of the config as OPML
  export DIR          write every feed (.atom, .rss, .json), index.html and feeds.opml under DIR

options:
  -c, --config FILE   the config file (default: $NEWSLOOM_CONFIG or config/newsloom.yaml)
  --base-url URL      export: the public address the files will be served from (default: server.base_url)
  -h, --help          this text (after a command: that command's part of it)
  -V, --version       the version of newsloom

exit codes: 0 ok; 1 the command found a problem (invalid config, a failed source, unhealthy daemon);
2 wrong command line; 3 cannot start or open what it needs (port in use, data folder, full disk)
`;

/** The lines of USAGE about one command, with the options: what `newsloom COMMAND --help` prints. */
function commandUsage(command: string): string | undefined {
  const lines = USAGE.split('\n');
  const own: string[] = [];
  let inside = false;
  for (const line of lines) {
    // A command's entry starts two spaces in; its continuation lines are indented further.
    if (/^ {2}\S/.test(line)) inside = line.slice(2).split(/\s/)[0] === command;
    else if (!line.startsWith('   ')) inside = false;
    if (inside) own.push(line);
  }
  if (own.length === 0) return undefined;
  return `usage: newsloom ${command} [options]\n\n${own.join('\n')}\n\n${USAGE.slice(USAGE.indexOf('options:'))}`;
}

type Flags = { config?: string; source?: string; 'base-url'?: string } & Partial<Record<(typeof SELECTOR_FLAGS)[number] | 'url' | 'timezone' | 'full-text', string>>;

const SELECTOR_FLAGS = ['item', 'title', 'link', 'date', 'summary', 'image'] as const;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  source: { type: 'string', short: 's' },
  'base-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  url: { type: 'string' },
  timezone: { type: 'string' },
  'full-text': { type: 'string' },
  ...Object.fromEntries(SELECTOR_FLAGS.map((name) => [name, { type: 'string' as const }])),
} as const;

/** The command line as parsed, or the sentence that says what is wrong with it. */
function parseCommandLine(argv: string[]): { values: Flags & { help?: boolean; version?: boolean }; positionals: string[] } | string {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const unknown = /^Unknown option '(-[^']*)'/.exec((err as Error).message)?.[1];
    if (!unknown) return (err as Error).message;
    const near = closestOption(unknown.replace(/^-+/, '').split('=')[0]!);
    return `unknown option ${unknown}${near ? ` (did you mean --${near}?)` : ''}`;
  }
}

/** The option a misspelt one was most likely meant as: a prefix of it, or within two edits. */
function closestOption(typed: string): string | undefined {
  const names = Object.keys(OPTIONS);
  const prefixed = names.filter((name) => name.startsWith(typed));
  if (typed.length >= 2 && prefixed.length === 1) return prefixed[0];
  const ranked = names.map((name) => ({ name, distance: editDistance(typed, name) })).sort((a, b) => a.distance - b.distance);
  return ranked[0] && ranked[0].distance <= 2 ? ranked[0].name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`newsloom: ${parsed}\nrun "newsloom --help" for the commands and options\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`newsloom ${version()}\n`);
    return EXIT.ok;
  }
  const command = positionals[0] ?? 'run';
  if (values.help || command === 'help') {
    const about = command === 'help' ? positionals[1] : positionals[0];
    process.stdout.write((about && commandUsage(about)) ?? USAGE);
    return EXIT.ok;
  }
  const commands: Record<string, (flags: Flags, args: string[]) => Promise<number>> = {
    run,
    check,
    fetch,
    sources,
    prune,
    healthcheck,
    explain,
    retag,
    'try-source': trySource,
    backup,
    'import-opml': importOpml,
    'export-opml': exportOpml,
    export: exportCommand,
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
  let daemon;
  try {
    daemon = await startDaemon(config, log, { configFile: configPath(flags.config) });
  } catch (err) {
    if (!(err instanceof DatabaseHeldError)) throw err;
    process.stderr.write(`newsloom: ${err.message}\n`);
    return 1;
  }
  const reload = () => {
    log.info('received SIGHUP: reloading the config');
    daemon.reload().catch((err: unknown) => log.error({ err }, 'reloading the config failed'));
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
  const ctx = await openPipeline(config, log);
  try {
    const results = await pollOnce(sources, (source) => pollSource(ctx, source));
    const rows = results.map((r) => [r.sourceId, r.status, String(r.new), String(r.updated), String(r.unchanged), `${r.durationMs} ms`, r.error ? `${r.error.kind}: ${r.error.message}` : '']);
    process.stdout.write(table(['source', 'status', 'new', 'updated', 'unchanged', 'time', 'error'], rows));
    return results.some((r) => r.status === 'error') ? 1 : 0;
  } finally {
    await ctx.store.close();
  }
}

async function explain(flags: Flags, args: string[]): Promise<number> {
  const ref = args[0];
  if (!ref) {
    process.stderr.write(`newsloom: explain needs an item: its number, uid or URL\n`);
    return 2;
  }
  const config = load(flags);
  if (!config) return 1;
  const ctx = await openPipeline(config, createLogger('warn'));
  try {
    const id = await ctx.store.items.find(ref);
    const item = id === undefined ? undefined : await ctx.store.items.get(id);
    if (!item) {
      process.stderr.write(`newsloom: no stored item "${ref}"\n`);
      return 1;
    }
    const out = [`#${item.id} ${item.uid} ${item.sourceId} ${new Date(item.publishedAt).toISOString()}`, item.title, ...(item.url ? [item.url] : []), ''];
    const stored = await ctx.store.items.matches(item.id);
    if (stored.length === 0) out.push('no topics');
    for (const tag of stored) out.push(tag.topic, ...tag.matches.map((m) => `  ${describeMatch(m)}`));
    const verdicts = evaluate(ctx.tagger, item);
    const nearMisses = verdicts.filter((v) => !v.tagged && v.matches.length > 0);
    if (nearMisses.length > 0) out.push('', 'not tagged, although terms matched:');
    for (const v of nearMisses) {
      const why = !v.inScope
        ? 'outside its sources or languages'
        : v.blockedBy.length > 0
          ? `blocked by ${v.blockedBy.map(describeMatch).join('; ')}`
          : `${v.missingGroups} "all" group(s) without a match`;
      out.push(`${v.topic}: ${why}`);
    }
    const now = verdicts.filter((v) => v.tagged).map((v) => v.topic).sort();
    if (now.join(' ') !== stored.map((t) => t.topic).sort().join(' ')) {
      out.push('', `the current rules give: ${now.join(', ') || 'no topics'}; \`newsloom retag\` (or a daemon restart) applies them`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    await ctx.store.close();
  }
}

function describeMatch(m: TopicMatch): string {
  return `"${m.term}"${m.via ? ` (topic ${m.via})` : ''} matched "${m.matched}" in the ${m.field}`;
}

async function retag(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const ctx = await openPipeline(config, createLogger('warn'));
  try {
    const report = await retagAll(ctx.store, ctx.tagger, ctx.log);
    const rows = Object.entries(report.topics).map(([topic, { gained, lost }]) => [topic, `+${gained}`, `-${lost}`]);
    if (rows.length > 0) process.stdout.write(table(['topic', 'gained', 'lost'], rows));
    process.stdout.write(`${report.items} items re-tagged, ${report.changed} changed\n`);
    return 0;
  } finally {
    await ctx.store.close();
  }
}

/** The same data as /status, as a table for a terminal. */
async function sources(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const store = await openStore(config.storage);
  try {
    const now = Date.now();
    const when = (iso: string | null) => {
      if (!iso) return '—';
      const ms = Date.parse(iso) - now;
      return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
    };
    const rows = sourceStatus(config, await store.sources.health()).map((s) => [
      s.id,
      s.state,
      when(s.lastSuccessAt),
      when(s.nextPollAt),
      s.error ? `${s.error.count} since ${when(s.error.since)}` : '0',
      String(s.items),
      s.error ? `${s.error.kind}: ${s.error.message}` : s.movedTo ? `moved to ${s.movedTo}` : '',
    ]);
    process.stdout.write(table(['source', 'state', 'last success', 'next poll', 'errors', 'items', 'last error'], rows));
    return rows.some((r) => r[1] === 'error') ? 1 : 0;
  } finally {
    await store.close();
  }
}

async function prune(flags: Flags): Promise<number> {
  const config = load(flags);
  if (!config) return 1;
  const ctx = await openPipeline(config, createLogger(config.log.level === 'info' ? 'warn' : config.log.level));
  try {
    const result = await housekeep(ctx);
    process.stdout.write(`pruned ${result.items} items and ${result.stories} stories, forgot ${result.tombstones} fingerprints; ${await ctx.store.items.count()} items remain\n`);
    return 0;
  } finally {
    await ctx.store.close();
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

async function trySource(flags: Flags, args: string[]): Promise<number> {
  const target = flags.url ? sourceFromFlags(flags) : sourceFromConfig(flags, args[0]);
  if (typeof target === 'number') return target;
  const { config, source } = target;
  const probe = await probeSource(config, source);
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  process.stdout.write(`${source.id}: ${probe.rows.length} items from ${source.url}\n`);
  if (probe.rows.length > 0) process.stdout.write(table(['title', 'link', 'date'], probe.rows.map((r) => [cut(r.title, 70), r.link, r.date])));
  for (const note of probe.notes) process.stdout.write(`${note}\n`);
  return probe.ok ? 0 : 1;
}

type Target = { config: Config; source: SourceConfig } | number;

function sourceFromConfig(flags: Flags, id: string | undefined): Target {
  const config = load(flags);
  if (!config) return 1;
  const source = config.sources.find((s) => s.id === id);
  if (source) return { config, source };
  process.stderr.write(`newsloom: try-source needs a source id (known: ${config.sources.map((s) => s.id).join(', ')}) or --url with selectors\n`);
  return 2;
}

/** A source made of the flags alone: the config file is not needed (nor read) for a first look at a page. */
function sourceFromFlags(flags: Flags): Target {
  const html = Object.fromEntries(SELECTOR_FLAGS.filter((name) => flags[name] !== undefined).map((name) => [name, flags[name]]));
  const fullText = flags['full-text'] === undefined ? undefined : { selector: flags['full-text'] };
  const parsed = configSchema.safeParse({ sources: [{ id: 'try', url: flags.url, kind: 'html', timezone: flags.timezone, html, full_text: fullText }] });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`newsloom: --${flagOf(issue.path.slice(2))}: ${issue.message}\n`);
    return 2;
  }
  return { config: parsed.data, source: parsed.data.sources[0]! };
}

/** The command-line flag a field of the --url source came from. */
function flagOf(path: PropertyKey[]): string {
  if (path[0] === 'html') return String(path[1] ?? 'item');
  if (path[0] === 'full_text') return 'full-text';
  return String(path[0] ?? 'url');
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
    const result = await backupStore(config.storage, target);
    process.stdout.write(`backed up ${describeStorage(config.storage)} to ${result.file}: ${result.pages} pages, ${result.bytes} bytes, integrity ${result.integrity}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`newsloom: backup of ${describeStorage(config.storage)} failed: ${(err as Error).message}\n`);
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

async function exportCommand(flags: Flags, args: string[]): Promise<number> {
  const dir = args[0];
  if (!dir) {
    process.stderr.write(`newsloom: export needs a folder to write to\n\n${USAGE}`);
    return 2;
  }
  const config = load(flags);
  if (!config) return 1;
  const baseUrl = (flags['base-url'] ?? config.server.base_url)?.replace(/\/+$/, '');
  if (!baseUrl || !/^https?:\/\/[^/]/.test(baseUrl)) {
    process.stderr.write('newsloom: export needs the public address of the files: set server.base_url or pass --base-url https://…\n');
    return 2;
  }
  const store = await openStore(config.storage);
  try {
    const files = await exportSite({ config, store, baseUrl, maxAgeSeconds: config.server.cache_max_age / 1000, static: true }, dir);
    process.stdout.write(`wrote ${files.length} files to ${dir}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}

/** A command line to its exit code; every error ends here, as a sentence or (a bug) with its stack. */
export async function cli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    // What the operator can fix is said in a sentence; anything else is a bug, and its stack helps whoever fixes it.
    if (err instanceof OperatorError) {
      process.stderr.write(`newsloom: ${err.message}\n`);
      return EXIT.cannotStart;
    }
    process.stderr.write(`newsloom: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.problem;
  }
}

// Run as a program; imported (by the tests), it only exports cli().
if (import.meta.main) {
  void cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
