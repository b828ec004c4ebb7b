// What a reload needs besides loading: noticing that the config file changed, and telling which sources
// a new config adds, removes or changes.
import { readFileSync, watch } from 'node:fs';
import path from 'node:path';
import type { Config, SourceConfig } from './schema.ts';

export interface SourceChanges {
  added: string[];
  removed: string[];
  /** Sources whose settings differ: the next poll uses the new ones. */
  changed: string[];
}

export function diffSources(previous: SourceConfig[], next: SourceConfig[]): SourceChanges {
  const before = new Map(previous.map((s) => [s.id, JSON.stringify(s)]));
  const after = new Set(next.map((s) => s.id));
  return {
    added: next.filter((s) => !before.has(s.id)).map((s) => s.id),
    removed: previous.filter((s) => !after.has(s.id)).map((s) => s.id),
    changed: next.filter((s) => before.has(s.id) && before.get(s.id) !== JSON.stringify(s)).map((s) => s.id),
  };
}

/** Settings read once at start: a reload cannot change them, so the operator is told to restart. */
export function restartRequired(previous: Config, next: Config): string[] {
  const fields: [string, unknown, unknown][] = [
    ['server.host', previous.server.host, next.server.host],
    ['server.port', previous.server.port, next.server.port],
    ['storage.path', previous.storage.path, next.storage.path],
    ['storage.url', previous.storage.url, next.storage.url],
    ['storage.pool', previous.storage.pool, next.storage.pool],
  ];
  return fields.filter(([, a, b]) => a !== b).map(([field]) => field);
}

/**
 * Calls handlers.change when the file's contents change, once a burst of writes has settled for debounceMs.
 * It watches the folder, not the file: editors and Kubernetes replace the file by a rename, which a watch
 * on the old file would never see; comparing contents ignores every other file of the folder.
 */
export function watchConfigFile(file: string, debounceMs: number, handlers: { change: () => void; error: (err: Error) => void }): { close(): void } {
  const read = () => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined; // between the unlink and the rename of an atomic save: the next event brings it back
    }
  };
  let seen = read();
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path.dirname(path.resolve(file)), { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const text = read();
      if (text === undefined || text === seen) return;
      seen = text;
      handlers.change();
    }, debounceMs).unref();
  });
  // A watch can fail (the folder removed, inotify limits); SIGHUP still reloads.
  watcher.on('error', (err) => {
    watcher.close();
    handlers.error(err);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
