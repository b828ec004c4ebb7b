// The full-text index (FTS5) lives in a file of its own beside the database, <name>.search.db, attached to every
// connection as "search". It is derived data: the database's triggers queue every item inserted, edited or deleted
// (search_queue, in order), and the index is brought up to date from that queue, or rebuilt from the items, newest
// first, when the file is missing, belongs to another database, is ahead of the queue (a restored backup) or has an
// older layout (INDEX_FORMAT). In the daemon the
// background thread keeps it (background.ts, search-worker.ts), so that tokenizing and merging never hold up a poll's commit or a feed request;
// one-shot commands and tests bring it up to date on the spot, before a search.
import path from 'node:path';
import type { BackgroundThread } from '../../background.ts';
import type Database from 'better-sqlite3';
import type { SearchProgress } from '../store.ts';
import { stem, WordReader } from '../../text/words.ts';
import type { Db } from './db.ts';
import type { IndexColumns } from './search.ts';
import type { SearchMessage, SearchReply } from './search-worker.ts';

/** Where the search index of the database `file` lives. */
export function searchFile(file: string): string {
  if (file === ':memory:') return ':memory:';
  const { dir, name, ext } = path.parse(file);
  return path.join(dir, `${ext === '.db' ? name : name + ext}.search.db`);
}

/**
 * The index file's layout, kept in its user_version. 2: each item's words exactly (title, body) and their Snowball
 * stems (title_forms, body_forms), as the tagger reads them (words.ts); 0: the first layout, exact words only. A file
 * of another layout is built again from the items (the writer's first step), and answers exact words until then.
 */
export const INDEX_FORMAT = 2;

interface IndexState {
  instance: string;
  seq: number;
  cursor: number | null;
}

const CREATE_INDEX = `CREATE VIRTUAL TABLE IF NOT EXISTS search.items_fts USING fts5(title, body, title_forms, body_forms,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')`;

/** Attaches the search index of `file` to `db` as "search", creating it when missing. */
export function attachSearch(db: Db, file: string): void {
  db.prepare(`ATTACH DATABASE ? AS search`).run(searchFile(file));
  // A read-only connection reads the index the daemon made as it is.
  if (db.readonly) return;
  db.pragma('search.journal_mode = WAL');
  db.pragma('search.synchronous = NORMAL');
  db.pragma('search.cache_size = -4096');
  const fresh = db.prepare(`SELECT 1 FROM search.sqlite_master WHERE name = 'items_fts'`).get() === undefined;
  db.exec(`
    CREATE TABLE IF NOT EXISTS search.state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      instance TEXT NOT NULL,
      -- Queue entries up to this number are indexed.
      seq INTEGER NOT NULL,
      -- While the index is built from the items, newest first: those from this id up are in; NULL once built.
      cursor INTEGER
    ) STRICT;
    ${CREATE_INDEX};
  `);
  if (fresh) db.pragma(`search.user_version = ${INDEX_FORMAT}`);
}

/** Connections whose index has been seen at this layout: a layout only ever moves forward, so they are not asked again. */
const currentLayout = new WeakSet<Db>();

/** What the index attached to `db` can answer. */
export function indexColumns(db: Db): IndexColumns {
  if (currentLayout.has(db)) return { forms: true };
  const forms = db.pragma('search.user_version', { simple: true }) === INDEX_FORMAT;
  if (forms) currentLayout.add(db);
  return { forms };
}

/**
 * Where the index stands (queue entry, build cursor) in one SQL expression: part of a search response's cache key,
 * read with the store's generation in the same statement (see Store.generation).
 */
export const SEARCH_STAMP_SQL = `coalesce((SELECT seq || '.' || coalesce(cursor, '') FROM search.state WHERE id = 1), '')`;

/** An item's text as the index holds it: its words folded (ё as е), exactly and as stems, each joined by spaces. */
export function indexedText(text: string): { exact: string; forms: string } {
  const reader = new WordReader(text);
  const exact: string[] = [];
  const forms: string[] = [];
  for (let start = reader.next(0); start >= 0; start = reader.next(reader.end)) {
    const word = reader.word(start, reader.end);
    exact.push(word);
    forms.push(stem(word));
  }
  return { exact: exact.join(' '), forms: forms.join(' ') };
}

const count = (items: number) => `${items.toLocaleString('en-US')} ${items === 1 ? 'item' : 'items'}`;

interface ItemText {
  id: number;
  title: string;
  body: string;
}

/** Brings the index up to date, a slice at a time; run on a connection with the database as main and the index attached. */
export class SearchIndexWriter {
  private readonly db: Db;
  private readonly statements;
  /** Told when a build from the items starts and ends (the daemon's log). */
  private readonly onBuild: (message: string) => void;
  private buildStarted: number | undefined;
  private insert: Database.Statement<[number, string, string, string, string]> | undefined;

  constructor(db: Db, onBuild: (message: string) => void = () => {}) {
    this.db = db;
    this.onBuild = onBuild;
    const ITEM_TEXT = `SELECT id, title, summary_text || ' ' || content_text AS body FROM main.items`;
    this.statements = {
      // A write first, so that the state read after it is the one this transaction will change (another process may
      // keep the same index: a one-shot command beside the daemon).
      claim: db.prepare(`UPDATE search.state SET seq = seq WHERE id = 1`),
      state: db.prepare<[], IndexState>(`SELECT instance, seq, cursor FROM search.state WHERE id = 1`),
      instance: db.prepare<[], string>(`SELECT value FROM main.meta WHERE key = 'search_instance'`).pluck(),
      lastSeq: db.prepare<[], number>(`SELECT coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'search_queue'), 0)`).pluck(),
      nextId: db.prepare<[], number>(`SELECT coalesce(max(id), 0) + 1 FROM main.items`).pluck(),
      reset: db.prepare<[string, number, number]>(
        `INSERT INTO search.state (id, instance, seq, cursor) VALUES (1, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET instance = excluded.instance, seq = excluded.seq, cursor = excluded.cursor`,
      ),
      deleteAll: db.prepare(`INSERT INTO search.items_fts (items_fts) VALUES ('delete-all')`),
      // Building: the next `limit` items below the cursor, newest first.
      below: db.prepare<[number, number], ItemText>(`${ITEM_TEXT} WHERE id < ? ORDER BY id DESC LIMIT ?`),
      setCursor: db.prepare<[number | null]>(`UPDATE search.state SET cursor = ? WHERE id = 1`),
      // Following the queue.
      queued: db.prepare<[number, number], { seq: number; item_id: number }>(`SELECT seq, item_id FROM main.search_queue WHERE seq > ? ORDER BY seq LIMIT ?`),
      indexed: db.prepare<[number], number>(`SELECT 1 FROM search.items_fts_docsize WHERE id = ?`).pluck(),
      remove: db.prepare<[number]>(`DELETE FROM search.items_fts WHERE rowid = ?`),
      byIds: db.prepare<[string], ItemText>(`${ITEM_TEXT} WHERE id IN (SELECT value FROM json_each(?))`),
      setSeq: db.prepare<[number]>(`UPDATE search.state SET seq = ? WHERE id = 1`),
      backlog: db.prepare<[number], number>(`SELECT count(*) FROM main.search_queue WHERE seq > ?`).pluck(),
      itemsBelow: db.prepare<[number], number>(`SELECT count(*) FROM main.items WHERE id < ?`).pluck(),
      items: db.prepare<[], number>(`SELECT count(*) FROM main.items`).pluck(),
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
      const relaid = !indexColumns(this.db).forms;
      if (relaid) this.relayout();
      const read = this.read();
      let state = read.state;
      const { instance, last } = read;
      if (!state) {
        s.deleteAll.run();
        state = { instance, seq: last, cursor: s.nextId.get()! };
        s.reset.run(instance, last, state.cursor!);
        this.buildStarted = performance.now();
        const items = s.items.get()!;
        const why = relaid ? 'its file had an older layout' : read.why;
        if (items > 0) this.onBuild(`the search index is being built from ${count(items)} (${why}); until it is done, a search finds the newest items first`);
      }
      // The queue first, for the items already in (new ones among them); the build reads the others as they are then.
      const entries = s.queued.all(state.seq, limit);
      const ids = [...new Set(entries.map((e) => e.item_id))].filter((id) => state.cursor === null || id >= state.cursor);
      for (const id of ids) if (s.indexed.get(id) !== undefined) s.remove.run(id);
      // Items deleted since are simply not found.
      this.add(s.byIds.all(JSON.stringify(ids)));
      if (entries.length > 0) s.setSeq.run(entries.at(-1)!.seq);
      if (state.cursor === null) return entries.length === limit;
      const rows = s.below.all(state.cursor, limit);
      this.add(rows);
      const cursor = rows.length === limit ? rows.at(-1)!.id : null;
      s.setCursor.run(cursor);
      if (cursor === null) this.built();
      return cursor !== null || entries.length === limit;
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
    if (!state || !indexColumns(this.db).forms) return { current, building: true, backlog: s.items.get()! };
    if (state.cursor !== null) return { current, building: true, backlog: s.itemsBelow.get(state.cursor)! + s.backlog.get(state.seq)! };
    return { current, building: false, backlog: current ? 0 : s.backlog.get(state.seq)! };
  }

  /** Forgets the queue entries the index holds (housekeeping). */
  trim(): void {
    const { state } = this.read();
    if (state && state.cursor === null) this.statements.trim.run(state.seq);
  }

  private add(rows: ItemText[]): void {
    // Prepared at first use: an index of an older layout has no stemmed columns until relayout().
    this.insert ??= this.db.prepare(`INSERT INTO search.items_fts (rowid, title, body, title_forms, body_forms) VALUES (?, ?, ?, ?, ?)`);
    for (const row of rows) {
      const title = indexedText(row.title);
      const body = indexedText(row.body);
      this.insert.run(row.id, title.exact, body.exact, title.forms, body.forms);
    }
  }

  /** An index of an older layout gives way to an empty one of this layout (in the transaction of the step that builds it). */
  private relayout(): void {
    this.db.exec(`DROP TABLE search.items_fts; ${CREATE_INDEX}; DELETE FROM search.state; PRAGMA search.user_version = ${INDEX_FORMAT}`);
  }

  private built(): void {
    if (this.buildStarted === undefined) return;
    const seconds = (performance.now() - this.buildStarted) / 1000;
    this.buildStarted = undefined;
    const items = this.statements.items.get()!;
    if (items > 0) this.onBuild(`the search index is built: ${count(items)} in ${seconds.toFixed(seconds < 10 ? 1 : 0)} s`);
  }

  /**
   * The index's state, undefined when it must be built again (none yet, another database's, or ahead of this
   * database's queue: a restored backup), and why; whether it holds everything.
   */
  private read(): { state: IndexState | undefined; why: string; instance: string; last: number; current: boolean } {
    const s = this.statements;
    const instance = s.instance.get() ?? '';
    const last = s.lastSeq.get()!;
    const found = s.state.get();
    const why = !found ? 'there was none' : found.instance !== instance ? 'its file was built from another database' : 'its file is ahead of the database: a restored backup';
    const state = found && found.instance === instance && found.seq <= last ? found : undefined;
    return { state, why, instance, last, current: state !== undefined && state.cursor === null && state.seq === last && indexColumns(this.db).forms };
  }
}

/** The engine's side of its search index (the store offers settled and progress of it). */
export interface SearchIndex {
  /** Before a full-text query: brings the index up to date on the spot (one-shot commands, tests), or nothing (the worker keeps it); what it can answer. */
  beforeQuery(): IndexColumns;
  /** This store committed writes: the worker, if any, is told. */
  changed(): void;
  /** Resolves once everything committed so far is searchable. */
  settled(): Promise<void>;
  progress(): SearchProgress;
  /** Whether the index is being built, given its stamp (SEARCH_STAMP_SQL): without a statement once it is built. */
  building(stamp: string): boolean;
  /** Forgets queue entries already indexed. */
  trim(): void;
}

export interface SearchIndexOptions {
  /** Told when a build of the index from the items starts and ends. */
  onBuild?: ((message: string) => void) | undefined;
  /** Told when the background thread cannot keep the index (it tries again by itself). */
  onError?: ((message: string) => void) | undefined;
}

/** What a search index reads of itself on the store's own connection. */
function ownView(db: Db, writer: SearchIndexWriter): Pick<SearchIndex, 'progress' | 'building' | 'trim'> {
  // Built: a state with no build cursor ("seq."), at this layout.
  return { progress: () => writer.progress(), building: (stamp) => !/^\d+\.$/.test(stamp) || !indexColumns(db).forms, trim: () => writer.trim() };
}

/** Brings the index up to date on the calling thread, when a search asks for it. */
export function inlineSearchIndex(db: Db, options: SearchIndexOptions = {}): SearchIndex {
  const writer = new SearchIndexWriter(db, options.onBuild);
  return {
    ...ownView(db, writer),
    beforeQuery: () => {
      writer.catchUp();
      return indexColumns(db);
    },
    changed: () => {},
    settled: () => {
      writer.catchUp();
      return Promise.resolve();
    },
  };
}

/** A reader beside the daemon (a web replica): the daemon's background thread keeps the index, this connection only reads it. */
export function readerSearchIndex(db: Db): SearchIndex {
  const writer = new SearchIndexWriter(db);
  return { ...ownView(db, writer), beforeQuery: () => indexColumns(db), changed: () => {}, settled: () => Promise.resolve(), trim: () => {} };
}

/** The background thread keeps the index of the database `file`: told after every commit, and checking every second for other processes' writes. */
export function workerSearchIndex(db: Db, file: string, background: BackgroundThread, options: SearchIndexOptions = {}): SearchIndex {
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
      if (reply.type === 'build') options.onBuild?.(reply.message);
      settle();
    },
    started: () => channel.post({ type: 'open', file } satisfies SearchMessage),
    stopped: () => {},
  });
  return {
    ...ownView(db, writer),
    beforeQuery: () => indexColumns(db),
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
  };
}
