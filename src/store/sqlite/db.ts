// Opens the SQLite database: creates its folder, sets the pragmas, applies pending migrations.
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OperatorError } from '../../operator-error.ts';
import { storageProblem } from './errors.ts';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export interface OpenOptions {
  /** Told before each migration is applied to a database that has data (some rewrite a table: seconds per million items). */
  onMigration?: ((migration: { version: number; name: string }) => void) | undefined;
  /** A reader beside the daemon (a web replica): the connection cannot write, and nothing is migrated. */
  readOnly?: boolean | undefined;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (options.readOnly) return openReader(file);
  let db: Db | undefined;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    // First, so that even switching to WAL waits for another connection's lock rather than failing at once.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A 16 MiB page cache (SQLite's default is 2 MiB) keeps the hot index pages of a poll's writes; no memory-mapped
    // reads, whose pages count against the process's memory (BENCHMARKS.md: peak RSS). Checkpoints every 64 MiB of WAL
    // rather than every 4 MiB, so that not every commit pays for one. Savepoints (one per poll of a group commit) keep
    // their sub-journals in memory, not in temporary files.
    db.pragma('cache_size = -16384');
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma('temp_store = MEMORY');
    migrate(db, options.onMigration);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db?.close();
    throw openError(file, err);
  }
}

/** A read-only connection to a database a daemon made (and migrates): it reads the daemon's WAL and never writes or checkpoints. */
function openReader(file: string): Db {
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -16384');
    db.pragma('temp_store = MEMORY');
    checkVersion(schemaVersion(db));
    return db;
  } catch (err) {
    db?.close();
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') {
      throw new OperatorError(`cannot open the database ${file} to read it: it does not exist yet (the web role only reads; start a poller, or run --role all, first)`, { cause: err });
    }
    throw openError(file, err);
  }
}

/** The error to report when the database at `file` (or a file beside it) cannot be opened: what the folder or disk says, when it says. */
export function openError(file: string, err: unknown): unknown {
  // SQLite says only "cannot open" when the folder refuses its -wal and -shm files; the folder says why.
  // A file where a folder should be says so before the folder's permissions are asked.
  const notAFolder = ['ENOTDIR', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '');
  const problem = (notAFolder ? fileProblem(err) : undefined) ?? fileProblem(folderAccess(file)) ?? storageProblem(err) ?? fileProblem(err);
  return problem ? new OperatorError(`cannot open the database ${file}: ${problem}`, { cause: err }) : err;
}

function folderAccess(file: string): unknown {
  if (file === ':memory:') return undefined;
  try {
    accessSync(path.dirname(path.resolve(file)), constants.W_OK);
    return undefined;
  } catch (err) {
    return err;
  }
}

function fileProblem(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EROFS') return 'its folder is on a read-only filesystem, the database is read-only (EROFS)';
  if (code === 'EACCES' || code === 'EPERM') return `no permission to write in its folder (${code})`;
  if (code === 'ENOSPC') return 'the disk is full (ENOSPC)';
  if (code === 'ENOTDIR' || code === 'EEXIST') return `a part of its path is a file, not a folder (${code})`;
  return undefined;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, onMigration: OpenOptions['onMigration']): void {
  const current = schemaVersion(db);
  checkVersion(current);
  // Foreign keys are off while migrating (the caller turns them on after): a migration that rebuilds a table drops the
  // old one, which would otherwise delete or null every row referring to it. Such a migration keeps the ids, so that the
  // references stay true (tests/migrations.test.ts checks it). better-sqlite3 turns them on by default.
  db.pragma('foreign_keys = OFF');
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    // IMMEDIATE takes the write lock first (waiting busy_timeout for it), and the version is read again under it: another
    // process opening the database at the same moment (a command beside the starting daemon) may have just applied it.
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      if (current > 0) onMigration?.({ version: migration.version, name: migration.name });
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

function checkVersion(current: number): void {
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`the database schema is version ${current}, newer than this newsloom knows (${latest}): upgrade newsloom or restore a backup`);
  }
}
