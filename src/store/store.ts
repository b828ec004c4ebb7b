// The store: one open database and the per-aggregate stores over it. Only src/store/ speaks SQL.
import { ArticleStore } from './articles.ts';
import { openDatabase, type Db } from './db.ts';
import { ItemStore } from './items.ts';
import { MetaStore } from './meta.ts';
import { SourceStore } from './sources.ts';

export interface Store {
  db: Db;
  items: ItemStore;
  sources: SourceStore;
  meta: MetaStore;
  articles: ArticleStore;
  /** Counters that move with every write a feed could show (feeds) or the index page's source health shows (health): cache keys. */
  generation(): { feeds: number; health: number };
  /** Runs fn in one transaction: all of it is visible, or none. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  const generation = db.prepare<[], { feeds: number; health: number }>(`SELECT feeds, health FROM generation`);
  return {
    db,
    items: new ItemStore(db),
    sources: new SourceStore(db),
    meta: new MetaStore(db),
    articles: new ArticleStore(db),
    generation: () => generation.get()!,
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
