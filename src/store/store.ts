// The store: one open database and the per-aggregate stores over it. Only src/store/ speaks SQL.
import type { BackgroundThread } from '../background.ts';
import { ArticleStore } from './sqlite/articles.ts';
import { openDatabase, type Db, type OpenOptions } from './sqlite/db.ts';
import { FingerprintStore } from './sqlite/fingerprints.ts';
import { GroupCommit } from './sqlite/group-commit.ts';
import { ItemStore } from './sqlite/items.ts';
import { MetaStore } from './sqlite/meta.ts';
import { optimize, prune, type PruneOptions, type PruneResult } from './sqlite/prune.ts';
import { attachSearch, inlineSearchIndex, searchFile, workerSearchIndex, type SearchIndex } from './sqlite/search-index.ts';
import { SourceStore } from './sqlite/sources.ts';
import { StoryStore } from './sqlite/stories.ts';

export interface Store {
  db: Db;
  items: ItemStore;
  sources: SourceStore;
  meta: MetaStore;
  articles: ArticleStore;
  /** Counters that move with every write a feed could show (feeds) or the index page's source health shows (health): cache keys. */
  generation(): { feeds: number; health: number };
  fingerprints: FingerprintStore;
  stories: StoryStore;
  /** The full-text index, in a file of its own beside the database (see search-index.ts). */
  search: SearchIndex;
  /** Deletes items past retention, keeping their fingerprints as tombstones (see prune.ts). */
  prune(options: PruneOptions): PruneResult;
  /** PRAGMA optimize and a WAL checkpoint: the daily housekeeping after a prune. */
  optimize(): void;
  /** Runs fn in one transaction: all of it is visible, or none. */
  transaction<T>(fn: () => T): T;
  /**
   * Runs fn in one transaction with the other writes waiting at the same moment (polls that finished together): each is
   * a savepoint of its own, so its failure undoes it alone, and all of them commit at once, sharing the cost of a commit.
   * All of fn is visible, or none of it.
   */
  write<T>(fn: () => T): Promise<T>;
  /** Closes the database (the background thread, if any, is closed by whoever opened it). */
  close(): void;
}

export interface StoreOptions {
  /**
   * Keep the search index on this background thread (the daemon): searches see an item once it has been indexed there,
   * usually within a fraction of a second. Otherwise (one-shot commands, tests) a search first indexes what is pending.
   */
  background?: BackgroundThread | undefined;
  /** Told when the background thread cannot keep the search index (it tries again by itself). */
  onSearchError?: ((message: string) => void) | undefined;
  onMigration?: OpenOptions['onMigration'];
}

export function openStore(file: string, options: StoreOptions = {}): Store {
  const db = openDatabase(file, { onMigration: options.onMigration });
  let search: SearchIndex;
  try {
    attachSearch(db, file);
    search = options.background && file !== ':memory:' ? workerSearchIndex(db, file, options.background, { onError: options.onSearchError }) : inlineSearchIndex(db);
  } catch (err) {
    db.close();
    throw new Error(`cannot open the search index ${searchFile(file)}: ${(err as Error).message}`, { cause: err });
  }
  const generation = db.prepare<[], { feeds: number; health: number }>(`SELECT feeds, health FROM generation`);
  const stories = new StoryStore(db);
  const transaction = <T>(fn: () => T): T => {
    try {
      const result = db.transaction(fn)();
      if (!db.inTransaction) search.changed();
      return result;
    } catch (err) {
      // The story index in memory may have learnt reports the rollback took back.
      stories.forget();
      throw err;
    }
  };
  const writes = new GroupCommit(db, transaction, () => stories.forget());
  return {
    db,
    items: new ItemStore(db, stories, search),
    sources: new SourceStore(db),
    meta: new MetaStore(db),
    articles: new ArticleStore(db),
    generation: () => generation.get()!,
    fingerprints: new FingerprintStore(db),
    stories,
    search,
    prune: (options) => {
      const result = prune(db, options);
      stories.trim(options.now - Math.min(options.items, 2 * options.window));
      return result;
    },
    optimize: () => {
      search.trim();
      optimize(db);
    },
    transaction,
    write: async (fn) => {
      const result = await writes.add(fn);
      search.changed();
      return result;
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}
