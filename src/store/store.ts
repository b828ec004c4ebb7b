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
  /** Runs fn in one transaction: all of it is visible, or none. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  return {
    db,
    items: new ItemStore(db),
    sources: new SourceStore(db),
    meta: new MetaStore(db),
    articles: new ArticleStore(db),
    transaction: (fn) => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
