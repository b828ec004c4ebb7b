// Opens the SQLite database: creates its folder, sets the pragmas, applies pending migrations.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Story dedup reads index pages all over the database (one seek per band); a 64 MiB page cache and memory-mapped
  // reads keep those from being a system call each (SQLite's default cache is 2 MiB).
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  db.pragma('wal_autocheckpoint = 16384');
  migrate(db);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`the database schema is version ${current}, newer than this newsloom knows (${latest}): upgrade newsloom or restore a backup`);
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
