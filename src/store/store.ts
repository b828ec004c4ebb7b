// The store: one open database and the per-aggregate stores over it. Only src/store/ speaks SQL.
import { openDatabase, type Db } from './db.ts';
import { ItemStore } from './items.ts';
import { SourceStore } from './sources.ts';

export interface Store {
  db: Db;
  items: ItemStore;
  sources: SourceStore;
  /** Counters that change with every write to items (and their topics) or to sources: cache keys. */
  generation(): { items: number; sources: number };
  /** Runs fn in one transaction: all of it is visible, or none. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  const generation = db.prepare<[], { items: number; sources: number }>(`SELECT items, sources FROM generation`);
  return {
    db,
    items: new ItemStore(db),
    sources: new SourceStore(db),
    generation: () => generation.get()!,
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
