// One daemon per database: a second `newsloom run` on it is refused with a message naming the first; commands that
// only read work beside it; a daemon killed outright leaves no lock behind.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDatabase, lockFiles, DatabaseHeldError } from '../src/store/sqlite/daemon-lock.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { CLI, freePort, runDaemon, type DaemonProcess } from './helpers/process.ts';

function newsloom(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('one daemon per database', () => {
  let setup: TestConfig;
  let configFile: string;
  let database: string;
  let running: DaemonProcess | undefined;

  const start = async () => {
    const daemon = runDaemon(configFile);
    await daemon.waitFor((l) => l.msg.startsWith('newsloom listening'), 'the daemon serving', 90_000);
    return daemon;
  };

  beforeEach(async () => {
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    database = path.join(setup.dir, 'newsloom.db');
    writeFileSync(
      configFile,
      `server: { host: 127.0.0.1, port: ${await freePort()} }
storage: { path: ${JSON.stringify(database)} }
sources:
  - { id: quiet, url: "http://127.0.0.1:9/quiet.xml", every: 1h }
`,
    );
  });

  afterEach(async () => {
    if (running) {
      running.child.kill('SIGKILL');
      await running.exited;
      running = undefined;
    }
    setup.cleanup();
  });

  it('refuses a second daemon on the same database, naming the first, and lets read-only commands work beside it', async () => {
    running = await start();
    const second = await newsloom(['run', '--config', configFile]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`the database ${database} is in use by another newsloom daemon (pid ${running.child.pid} on ${hostname()}, running since 20`);

    // The one source cannot be reached (the daemon polled it at start): sources says so, and exits 1 for it.
    const sources = await newsloom(['sources', '--config', configFile]);
    expect(sources.stderr).toBe('');
    expect(sources.stdout).toMatch(/^quiet\s+error/m);
    const backup = path.join(setup.dir, 'copy.db');
    expect(await newsloom(['backup', backup, '--config', configFile])).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(backup)).toBe(true);
    const exported = path.join(setup.dir, 'site');
    expect(await newsloom(['export', exported, '--base-url', 'https://news.example.org', '--config', configFile])).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(path.join(exported, 'feeds.opml'))).toBe(true);
    // No such item: the command answers (exit 1, a message), rather than waiting on the daemon.
    const explain = await newsloom(['explain', '12345', '--config', configFile]);
    expect(explain.stderr).not.toMatch(/in use|locked|busy/i);

    // The first daemon still runs and still holds the database.
    expect(running.child.exitCode).toBeNull();
    expect(() => lockDatabase(database)).toThrow(DatabaseHeldError);
  }, 240_000);

  it('starts where a daemon was killed outright (SIGKILL): the lock died with it', async () => {
    running = await start();
    const killed = running.child.pid;
    running.child.kill('SIGKILL');
    expect(await running.exited).toBe('SIGKILL');
    // Its record is still there; the lock is not.
    expect(JSON.parse(readFileSync(lockFiles(database).holder, 'utf8'))).toMatchObject({ pid: killed });

    running = await start();
    expect(JSON.parse(readFileSync(lockFiles(database).holder, 'utf8'))).toMatchObject({ pid: running.child.pid, host: hostname() });
  }, 240_000);

  it('is released when the daemon stops, and taken by one process at a time', () => {
    const first = lockDatabase(database, Date.UTC(2026, 11, 4, 1, 0));
    let refusal: unknown;
    try {
      lockDatabase(database);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(DatabaseHeldError);
    expect((refusal as DatabaseHeldError).holder).toEqual({ pid: process.pid, host: hostname(), since: Date.UTC(2026, 11, 4, 1, 0) });
    expect((refusal as Error).message).toContain('running since 2026-12-04T01:00:00.000Z');
    first.release();
    expect(existsSync(lockFiles(database).holder)).toBe(false);
    lockDatabase(database).release();
  });
});
