// Runs the real command line (`node src/cli.ts …`) as a child process: one command to its end, or the daemon,
// following its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { closePipeline, openPipeline } from '../../src/daemon.ts';
import { silentLogger } from '../../src/log.ts';
import { pollSource } from '../../src/pipeline/ingest.ts';
import { pollOnce } from '../../src/scheduler/scheduler.ts';

export const CLI = path.join(import.meta.dirname, '../../src/cli.ts');

// Node keeps the compiled code of every module it loads here, so that each command the tests start does not
// compile newsloom and its dependencies again (it halves a command's start on a busy machine).
export const CHILD_ENV = { NODE_COMPILE_CACHE: path.join(tmpdir(), 'newsloom-test-compile-cache') };

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What `newsloom fetch --config FILE` stores, done in this process: for tests whose subject is another command,
 * so that they do not pay for starting one more.
 */
export async function fetchInProcess(configFile: string): Promise<void> {
  const config = loadConfig(configFile, {});
  const ctx = await openPipeline(config, silentLogger);
  try {
    await pollOnce(config.sources.filter((s) => s.enabled), (source) => pollSource(ctx, source));
  } finally {
    await closePipeline(ctx);
  }
}

/** Runs one newsloom command to its end in a child process, as an operator's shell would. */
export function newsloomProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...CHILD_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Commands run in this process take turns: they share process.stdout, process.stderr and process.env.
let turn: Promise<unknown> = Promise.resolve();

/**
 * Runs one newsloom command (not `run`, which waits for a signal: see runDaemon) to its end in this process,
 * through the same cli() the program runs, with what it writes to stdout and stderr and its exit code. A child
 * process costs seconds of start-up on a busy machine; the tests of the program itself use newsloomProcess.
 */
export function newsloom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const done = turn.then(() => inProcess(args, env));
  turn = done.catch(() => undefined);
  return done;
}

async function inProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const { cli } = await import('../../src/cli.ts');
  const output = { stdout: '', stderr: '' };
  const streams = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const capture = (name: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      output[name] += chunk.toString();
      return true;
    }) as typeof process.stdout.write;
  Object.assign(process.env, env);
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    return { code: await cli(args), ...output };
  } finally {
    process.stdout.write = streams.stdout;
    process.stderr.write = streams.stderr;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export interface LogLine {
  level: number;
  msg: string;
  source?: string;
  status?: string;
  [key: string]: unknown;
}

export interface DaemonProcess {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals>;
}

/** `newsloom run --config FILE` (with `args` after it, such as --role web), following its log. */
export function runDaemon(configFile: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): DaemonProcess {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configFile, ...args], {
    env: { ...process.env, ...CHILD_ENV, NEWSLOOM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal!)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitFor(match, what, timeoutMs = 15_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr}`)), timeoutMs);
        const done = (line: LogLine) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ match, resolve: done });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the daemon exited (${code}) while waiting for ${what}; stderr: ${stderr}`));
        });
      });
    },
  };
}

// One helper for tests and benchmarks alike.
export { freePort } from '../../bench/lib.ts';
