// The full-text index (FTS5) lives in a file of its own beside the database, <name>.search.db, attached to every
// connection as "search". It is derived data: the database's triggers queue every item inserted, edited or deleted
// (search_queue, in order), and the index is brought up to date from that queue, or rebuilt from the items when the
// file is missing, belongs to another database, or is ahead of the queue (a restored backup). In the daemon the
// background thread keeps it (background.ts, search-worker.ts), so that tokenizing and merging never hold up a poll's commit or a feed request;
// one-shot commands and tests bring it up to date on the spot, before a search.
import path from 'node:path';
import type { BackgroundThread } from '../../background.ts';
import type { SearchProgress } from '../store.ts';
import type { Db } from './db.ts';
import type { SearchMessage, SearchReply } from './search-worker.ts';

/** Where the search index of the database `file` lives. */
export function searchFile(file: string): string {
  if (file === ':memory:') return ':memory:';
  const { dir, name, ext } = path.parse(file);
  return path.join(dir, `${ext === '.db' ? name : name + ext}.search.db`);
}

/** ё is indexed as е, as the tagger folds it (unicode61 folds case and, with remove_diacritics 2, accents). */
const fold = (column: string) => `replace(replace(${column}, 'ё', 'е'), 'Ё', 'Е')`;
/** What an item puts into the index, in the order of its columns (rowid, title, body). */
const INDEXED = `id, ${fold('title')}, ${fold("summary_text || ' ' || content_text")}`;

interface IndexState {
  instance: string;
  seq: number;
  cursor: number | null;
}

/** Attaches the search index of `file` to `db` as "search", creating it when missing. */
export function attachSearch(db: Db, file: string): void {
  db.prepare(`ATTACH DATABASE ? AS search`).run(searchFile(file));
  db.pragma('search.journal_mode = WAL');
  db.pragma('search.synchronous = NORMAL');
  db.pragma('search.cache_size = -4096');
  db.exec(`
    CREATE TABLE IF NOT EXISTS search.state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      instance TEXT NOT NULL,
      -- Queue entries up to this number are indexed.
      seq INTEGER NOT NULL,
      -- While the index is built from the items: those up to this id are in; NULL once built.
      cursor INTEGER
    ) STRICT;
    CREATE VIRTUAL TABLE IF NOT EXISTS search.items_fts USING fts5(title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
  `);
}

/** Brings the index up to date, a slice at a time; run on a connection with the database as main and the index attached. */
export class SearchIndexWriter {
  private readonly db: Db;
  private readonly statements;

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      // A write first, so that the state read after it is the one this transaction will change (another process may
      // keep the same index: a one-shot command beside the daemon).
      claim: db.prepare(`UPDATE search.state SET seq = seq WHERE id = 1`),
      state: db.prepare<[], IndexState>(`SELECT instance, seq, cursor FROM search.state WHERE id = 1`),
      instance: db.prepare<[], string>(`SELECT value FROM main.meta WHERE key = 'search_instance'`).pluck(),
      lastSeq: db.prepare<[], number>(`SELECT coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'search_queue'), 0)`).pluck(),
      reset: db.prepare<[string, number]>(
        `INSERT INTO search.state (id, instance, seq, cursor) VALUES (1, ?, ?, 0)
         ON CONFLICT(id) DO UPDATE SET instance = excluded.instance, seq = excluded.seq, cursor = 0`,
      ),
      deleteAll: db.prepare(`INSERT INTO search.items_fts (items_fts) VALUES ('delete-all')`),
      // Building: the next `limit` items after the cursor.
      upTo: db.prepare<[number, number], number | null>(`SELECT max(id) FROM (SELECT id FROM main.items WHERE id > ? ORDER BY id LIMIT ?)`).pluck(),
      addRange: db.prepare<[number, number]>(`INSERT INTO search.items_fts (rowid, title, body) SELECT ${INDEXED} FROM main.items WHERE id > ? AND id <= ?`),
      setCursor: db.prepare<[number | null]>(`UPDATE search.state SET cursor = ? WHERE id = 1`),
      // Following the queue.
      queued: db.prepare<[number, number], { seq: number; item_id: number }>(`SELECT seq, item_id FROM main.search_queue WHERE seq > ? ORDER BY seq LIMIT ?`),
      indexed: db.prepare<[number], number>(`SELECT 1 FROM search.items_fts_docsize WHERE id = ?`).pluck(),
      remove: db.prepare<[number]>(`DELETE FROM search.items_fts WHERE rowid = ?`),
      add: db.prepare<[string]>(`INSERT INTO search.items_fts (rowid, title, body) SELECT ${INDEXED} FROM main.items WHERE id IN (SELECT value FROM json_each(?))`),
      setSeq: db.prepare<[number]>(`UPDATE search.state SET seq = ? WHERE id = 1`),
      backlog: db.prepare<[number], number>(`SELECT count(*) FROM main.search_queue WHERE seq > ?`).pluck(),
      itemsAfter: db.prepare<[number], number>(`SELECT count(*) FROM main.items WHERE id > ?`).pluck(),
      trim: db.prepare<[number]>(`DELETE FROM main.search_queue WHERE seq <= ?`),
    };
  }

  /** Indexes up to `limit` items of what is pending, in one transaction of the index file; true when more is pending. */
  step(limit = 2000): boolean {
    // Nothing pending (a search on an index that is up to date): no write transaction for it.
    if (this.read().current) return false;
    return this.db.transaction(() => {
      const s = this.statements;
      s.claim.run();
      const read = this.read();
      let state = read.state;
      const { instance, last } = read;
      if (!state) {
        // Another database's index, or one from after this database's state (a restored backup): build it again.
        s.deleteAll.run();
        s.reset.run(instance, last);
        state = { instance, seq: last, cursor: 0 };
      }
      if (state.cursor !== null) {
        const upTo = s.upTo.get(state.cursor, limit) ?? null;
        if (upTo !== null) s.addRange.run(state.cursor, upTo);
        s.setCursor.run(upTo);
        // Built: what was queued meanwhile (edits, deletions of items already in) follows.
        return upTo !== null || last > state.seq;
      }
      const entries = s.queued.all(state.seq, limit);
      if (entries.length === 0) return false;
      const ids = [...new Set(entries.map((e) => e.item_id))];
      for (const id of ids) if (s.indexed.get(id) !== undefined) s.remove.run(id);
      // Items deleted since are simply not found.
      s.add.run(JSON.stringify(ids));
      s.setSeq.run(entries.at(-1)!.seq);
      return entries.length === limit;
    })();
  }

  /** Indexes everything pending. */
  catchUp(): void {
    while (this.step()) {
      // next slice
    }
  }

  progress(): SearchProgress {
    const s = this.statements;
    const { state, current } = this.read();
    if (!state) return { current, backlog: s.itemsAfter.get(0)! };
    if (state.cursor !== null) return { current, backlog: s.itemsAfter.get(state.cursor)! + s.backlog.get(state.seq)! };
    return { current, backlog: current ? 0 : s.backlog.get(state.seq)! };
  }

  /** Forgets the queue entries the index holds (housekeeping). */
  trim(): void {
    const { state } = this.read();
    if (state && state.cursor === null) this.statements.trim.run(state.seq);
  }

  /**
   * The index's state, undefined when it must be built again (none yet, another database's, or ahead of this
   * database's queue: a restored backup); whether it holds everything.
   */
  private read(): { state: IndexState | undefined; instance: string; last: number; current: boolean } {
    const s = this.statements;
    const instance = s.instance.get() ?? '';
    const last = s.lastSeq.get()!;
    const found = s.state.get();
    const state = found && found.instance === instance && found.seq <= last ? found : undefined;
    return { state, instance, last, current: state !== undefined && state.cursor === null && state.seq === last };
  }
}

/** The engine's side of its search index (the store offers settled and progress of it). */
export interface SearchIndex {
  /** Before a full-text query: brings the index up to date on the spot (one-shot commands, tests), or nothing (the worker keeps it). */
  beforeQuery(): void;
  /** This store committed writes: the worker, if any, is told. */
  changed(): void;
  /** Resolves once everything committed so far is searchable. */
  settled(): Promise<void>;
  progress(): SearchProgress;
  /** Forgets queue entries already indexed. */
  trim(): void;
}

/** Brings the index up to date on the calling thread, when a search asks for it. */
export function inlineSearchIndex(db: Db): SearchIndex {
  const writer = new SearchIndexWriter(db);
  return {
    beforeQuery: () => writer.catchUp(),
    changed: () => {},
    settled: () => {
      writer.catchUp();
      return Promise.resolve();
    },
    progress: () => writer.progress(),
    trim: () => writer.trim(),
  };
}

export interface WorkerSearchOptions {
  /** Told when the background thread cannot keep the index (it tries again by itself). */
  onError?: (message: string) => void;
}

/** The background thread keeps the index of the database `file`: told after every commit, and checking every second for other processes' writes. */
export function workerSearchIndex(db: Db, file: string, background: BackgroundThread, options: WorkerSearchOptions = {}): SearchIndex {
  const writer = new SearchIndexWriter(db);
  let poked = false;
  const waiters: (() => void)[] = [];
  const settle = () => {
    if (waiters.length === 0 || !writer.progress().current) return;
    for (const resolve of waiters.splice(0)) resolve();
  };
  const channel = background.attach('search', {
    receive: (message) => {
      const reply = message as SearchReply;
      if (reply.type === 'error') options.onError?.(reply.message);
      settle();
    },
    started: () => channel.post({ type: 'open', file } satisfies SearchMessage),
    stopped: () => {},
  });
  return {
    beforeQuery: () => {},
    changed: () => {
      // One message per turn of the event loop, however many commits it made.
      if (poked) return;
      poked = true;
      queueMicrotask(() => {
        poked = false;
        channel.post({ type: 'poke' } satisfies SearchMessage);
      });
    },
    settled: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        channel.post({ type: 'poke' } satisfies SearchMessage);
        settle();
      }),
    progress: () => writer.progress(),
    trim: () => writer.trim(),
  };
}
