// One daemon per database. The daemon holds a write transaction open on a small SQLite file beside the database
// (<database>.lock) for as long as it runs. SQLite's locks are the operating system's (fcntl), which end with the
// process however it ends, SIGKILL and power loss included: a lock never outlives its daemon, and no stale lock has to
// be guessed at from a pid. Who holds it (pid, host, since when) is written beside it (<database>.lock.json) for the
// message a second daemon gives. Commands that only read (sources, explain, export, backup) never take it.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openError } from './db.ts';

export interface DaemonLock {
  release(): void;
}

/** Who holds a database's daemon lock, as that daemon wrote it. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Epoch ms. */
  since: number;
}

export class DatabaseHeldError extends Error {
  readonly holder: LockHolder | undefined;

  constructor(file: string, holder: LockHolder | undefined) {
    const who = holder ? `pid ${holder.pid} on ${holder.host}, running since ${new Date(holder.since).toISOString()}` : 'it has not said which';
    super(`the database ${file} is in use by another newsloom daemon (${who}): stop it first, or give this one a database of its own`);
    this.name = 'DatabaseHeldError';
    this.holder = holder;
  }
}

export function lockFiles(file: string): { lock: string; holder: string } {
  return { lock: `${file}.lock`, holder: `${file}.lock.json` };
}

/** Takes the daemon lock of the database at `file`, or throws DatabaseHeldError naming the daemon that has it. */
export function lockDatabase(file: string, now = Date.now()): DaemonLock {
  if (file === ':memory:') return { release: () => {} };
  const files = lockFiles(file);
  let db: Database.Database | undefined;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // No waiting: a daemon that holds the lock holds it until it stops.
    db = new Database(files.lock, { timeout: 0 });
    db.exec('BEGIN IMMEDIATE');
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: now };
    // Written whole or not at all: a second daemon may read it at any moment.
    writeFileSync(`${files.holder}.${process.pid}`, `${JSON.stringify(holder)}\n`);
    renameSync(`${files.holder}.${process.pid}`, files.holder);
  } catch (err) {
    db?.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseHeldError(file, readHolder(files.holder));
    throw openError(file, err);
  }
  const held = db;
  return {
    release: () => {
      if (!held.open) return;
      // The record goes first, while the lock still keeps the next daemon from writing its own. The lock file stays:
      // deleting it could let two daemons lock two different files of the same name.
      rmSync(files.holder, { force: true });
      held.close();
    },
  };
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' && typeof holder.since === 'number' ? (holder as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}
