// SQLite failures that are about the storage itself (full disk, read-only file, I/O), in words an operator
// can act on; anything else is not a storage problem and is left to the caller.
import Database from 'better-sqlite3';

const STORAGE_ERRORS: [RegExp, string][] = [
  [/^SQLITE_FULL/, 'the disk holding the database is full'],
  [/^SQLITE_READONLY/, 'the database is read-only (check the file, its folder and the volume)'],
  // SQLite cannot grow the -shm file beside the database: the disk (or the tmpfs it is on) has no room left.
  [/^SQLITE_IOERR_SHMSIZE/, 'the disk holding the database is full (no room for its -shm file)'],
  [/^SQLITE_IOERR/, 'the disk holding the database failed to read or write'],
  [/^SQLITE_CANTOPEN/, 'the database file cannot be opened'],
  [/^SQLITE_CORRUPT|^SQLITE_NOTADB/, 'the database file is damaged (restore a backup)'],
  [/^SQLITE_BUSY|^SQLITE_LOCKED/, 'the database is locked by another process'],
];

/** A sentence for an operator when the error is a storage failure, else undefined. */
export function storageProblem(err: unknown): string | undefined {
  if (!(err instanceof Database.SqliteError)) return undefined;
  const known = STORAGE_ERRORS.find(([code]) => code.test(err.code));
  return known && `${known[1]} (${err.code})`;
}
