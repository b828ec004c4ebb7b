// A consistent copy of the live database through SQLite's online backup API, safe while the daemon writes.
import { renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { BackupResult } from '../store.ts';

/**
 * Copies the database at `source` to `target`. All pages are copied in one step, so the copy is one
 * snapshot (in WAL mode the daemon keeps writing meanwhile); it is written beside the target and renamed
 * into place only once complete and checked, so an interrupted backup never leaves a half file under its name.
 */
export async function backupDatabase(source: string, target: string): Promise<BackupResult> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  try {
    const { totalPages } = await db.backup(partial, { progress: () => 0x7fffffff });
    const copy = new Database(partial, { readonly: true });
    let integrity: string;
    let bytes: number;
    try {
      integrity = copy.pragma('integrity_check', { simple: true }) as string;
      bytes = (copy.pragma('page_count', { simple: true }) as number) * (copy.pragma('page_size', { simple: true }) as number);
    } finally {
      copy.close();
    }
    if (integrity !== 'ok') throw new Error(`the copy failed its integrity check: ${integrity}`);
    renameSync(partial, target);
    return { file: target, pages: totalPages, bytes, integrity };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
}
