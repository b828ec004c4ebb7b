// Shared shape of benchmark results: every bench/*.ts exports `run()` returning figures, and prints
// them when run on its own (`node bench/NAME.ts`). bench/run.ts collects them into one table.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface Figure {
  /** What was measured, e.g. "cold poll cycle, 1,000 feeds". */
  label: string;
  value: number;
  unit: string;
  /** The target, as text, e.g. "< 10 s". */
  target?: string;
  /** Whether the figure meets the target (undefined when there is no target). */
  ok?: boolean;
  /** A yardstick measured in the same run (bare node:http, rss-parser alone, the latency floor…). */
  yardstick?: { label: string; value: number; unit: string };
}

export interface BenchResult {
  name: string;
  figures: Figure[];
}

export function printResult(result: BenchResult): void {
  console.log(`\n${result.name}`);
  for (const f of result.figures) {
    const yard = f.yardstick ? `   (${f.yardstick.label}: ${fmt(f.yardstick.value)} ${f.yardstick.unit})` : '';
    const target = f.target ? `   target ${f.target}: ${f.ok ? 'met' : 'MISSED'}` : '';
    console.log(`  ${f.label.padEnd(52)} ${fmt(f.value).padStart(12)} ${f.unit}${target}${yard}`);
  }
}

export function fmt(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2);
}

/**
 * The V8 flags the daemon runs with, read from the shebang of src/cli.ts (`#!/usr/bin/env -S node FLAGS`): what the
 * installed `newsloom` command and the container run. Benchmarks run with them, so that they measure the daemon's heap.
 */
export const DAEMON_NODE_FLAGS: string[] = readFileSync(new URL('../src/cli.ts', import.meta.url), 'utf8')
  .split('\n', 1)[0]!
  .replace(/^#!\/usr\/bin\/env\s+(-S\s+)?node\s*/, '')
  .split(/\s+/)
  .filter(Boolean);

/** Prints the result of `run` when this module is the script node was started with, under the daemon's V8 flags. */
export async function runIfMain(metaUrl: string, run: () => Promise<BenchResult>): Promise<void> {
  if (!isMain(metaUrl)) return;
  withDaemonFlags();
  printResult(await run());
}

/** Makes sure this process runs with the daemon's V8 flags: started without them, it runs again with them and exits. */
export function withDaemonFlags(): void {
  const missing = DAEMON_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length === 0) return;
  // Heap flags only apply when node starts.
  const child = spawnSync(process.execPath, [...DAEMON_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

/** True when this module is the script node was started with (a bench run on its own). */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && new URL(metaUrl).pathname === process.argv[1];
}

/** A TCP port free on loopback right now, for a daemon started in a child process. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
