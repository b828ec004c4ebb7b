// Start-up time: from spawning `newsloom run` on a store of 1,000,000 items until /readyz answers.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DAEMON_NODE_FLAGS, freePort, runIfMain, type BenchResult } from './lib.ts';
import { populatedConfigYaml, populatedStore } from './populate.ts';

const ITEMS = Number(process.env.BENCH_STORE_ITEMS ?? 1_000_000);
const CLI = path.join(import.meta.dirname, '../src/cli.ts');

async function timeToReady(configFile: string, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', configFile], { stdio: 'ignore' });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) return performance.now() - started;
      if (performance.now() - started > 120_000) throw new Error('the daemon was not ready within 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-startup-'));
  try {
    await populatedStore(path.join(dir, 'newsloom.db'), ITEMS);
    const port = await freePort();
    const configFile = path.join(dir, 'newsloom.yaml');
    // Sources that point nowhere reachable (port 9, discard): start-up must not wait for polls.
    const yaml = (folder: string) =>
      `server: { host: 127.0.0.1, port: ${port} }\nstorage: { path: ${JSON.stringify(path.join(folder, 'newsloom.db'))} }\nlog: { level: warn }\n${populatedConfigYaml('http://127.0.0.1:9')}`;
    writeFileSync(configFile, yaml(dir));
    const empty = mkdtempSync(path.join(tmpdir(), 'newsloom-startup-empty-'));
    const emptyConfig = path.join(empty, 'newsloom.yaml');
    writeFileSync(emptyConfig, yaml(empty));
    const emptyMs = await timeToReady(emptyConfig, port);
    rmSync(empty, { recursive: true, force: true });
    const fullMs = await timeToReady(configFile, port);
    return {
      name: 'startup',
      figures: [{ label: `start-up to ready, ${ITEMS.toLocaleString('en-US')} items`, value: fullMs, unit: 'ms', yardstick: { label: 'empty store', value: emptyMs, unit: 'ms' } }],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
