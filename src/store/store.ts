// The store as the rest of newsloom sees it: an interface in the words of the domain (items, sources, stories…), whose
// methods return Promises, with transactions that take an async callback and a handle. An engine implements it in a
// folder of its own (src/store/sqlite/); nothing outside that folder sees a connection, a statement or SQL.
import type { BackgroundThread } from '../background.ts';
import type { Config } from '../config/schema.ts';
import { OperatorError } from '../operator-error.ts';
import type { Item, Tag, TopicMatch } from '../item.ts';
import type { SearchQuery } from '../text/search-query.ts';
import type { StoryPrint } from '../text/stories.ts';
import { redactUrl } from './postgres/db.ts';
import { storageProblem as postgresProblem } from './postgres/errors.ts';
import { openPostgresStore } from './postgres/store.ts';
import { lockDatabase, type DaemonLock } from './sqlite/daemon-lock.ts';
import { storageProblem as sqliteProblem } from './sqlite/errors.ts';
import { backupSqlite, openSqliteStore } from './sqlite/store.ts';

/** An item as stored: the normalized item plus its identity and bookkeeping. */
export interface StoredItem extends Item {
  id: number;
  /** The public, permanent id of the entry (derived from the item's identity, never from the row number). */
  uid: string;
  publishedAt: number;
  updatedAt: number;
  firstSeenAt: number;
  topics: string[];
  /** Other reports of the same story (other sources, reworded), shown with the leading item. */
  related: RelatedReport[];
  /** A ranked search's bm25 score (lower is better): where the next page starts. */
  score?: number;
}

export interface RelatedReport {
  sourceId: string;
  title: string;
  url: string | null;
}

/** Where the previous page ended: the sort key of its last entry (newest first, or best first for a ranked search). */
export type Cursor = { publishedAt: number; id: number } | { score: number; id: number };

export interface SearchFilters {
  /** Entries after this position only: the next page. */
  before?: Cursor | undefined;
  /** Entries published at or after this time (epoch ms). */
  since?: number | undefined;
  /** What to look for in title and text. */
  search?: SearchQuery | undefined;
  /** A search's entries best first (relevance, bm25: the default) or newest first. */
  sort?: 'relevance' | 'date' | undefined;
}

export interface ItemQuery extends SearchFilters {
  /** Items tagged with any of these topics; empty means any item. */
  topics?: string[];
  /** Items tagged with every one of these topics. */
  allTopics?: string[];
  /** Items tagged with none of these topics. */
  notTopics?: string[];
  /** Items from any of these sources; empty means any source. */
  sources?: string[];
  limit: number;
  /** List every matching item; by default each story is one entry, shown by its first-published matching report. */
  everyItem?: boolean;
}

/** What re-tagging reads of a stored item: the fields the rules look at and its current tags. */
export interface TaggedItem extends Pick<Item, 'sourceId' | 'language' | 'title' | 'summaryText' | 'contentText' | 'categories' | 'author'> {
  id: number;
  /** Stored tags: topic id → its matches as stored (JSON). */
  tags: Map<string, string>;
}

export interface SourceState {
  id: string;
  url: string;
  title: string | null;
  siteUrl: string | null;
  etag: string | null;
  lastModified: string | null;
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  nextPollAt: number | null;
  errorKind: string | null;
  errorMessage: string | null;
  errorCount: number;
  firstErrorAt: number | null;
  lastErrorAt: number | null;
  /** Where the configured url has moved for good (after several permanent redirects in a row). */
  movedUrl: string | null;
  redirectUrl: string | null;
  redirectCount: number;
  /** The feed's own <ttl>, a floor for adaptive schedules. */
  ttlMs: number | null;
}

export interface SourceHealth extends SourceState {
  itemCount: number;
  lastItemAt: number | null;
}

/** A permanent redirect seen on this many polls in a row moves the source to its new address. */
export const REDIRECTS_TO_MOVE = 3;

/** The address to fetch: where the configured url moved for good, as long as the config still names the old one. */
export function currentUrl(state: SourceState | undefined, configUrl: string): string {
  return state?.url === configUrl && state.movedUrl ? state.movedUrl : configUrl;
}

/** What a source's item is already known as: a stored item, or a pruned one (itemId null). */
export interface KnownItem {
  itemId: number | null;
  contentHash: string | null;
}

/** What the items of one document are known as, kept up to date while the document is stored. */
export interface DocumentIdentities {
  /** The item these keys (or, failing them, this uid) stand for, if any. */
  find(keys: string[], uid: string): KnownItem | undefined;
  /** Records that an item with these keys is stored as `itemId`; its keys are written by save(). */
  stored(keys: string[], uid: string, itemId: number, contentHash: string): void;
  /** Records an item that is known but not stored (a tombstone from the start); its keys are written by save(). */
  forgotten(keys: string[], uid: string): void;
  /** Writes the keys learnt since the last save: a key already known for another item keeps pointing there. */
  save(): Promise<void>;
}

/** A recent report another report may tell the same story as. */
export interface StoryCandidate {
  itemId: number;
  storyId: number;
  words: Uint32Array;
}

export interface NewReport {
  itemId: number;
  uid: string;
  sourceId: string;
  publishedAt: number;
  print: StoryPrint;
  /** The story it joins; a new story of its own when absent. */
  storyId: number | undefined;
}

/** What an entry of an output feed shows of the story its item belongs to. */
export interface StoryFacts {
  /** The story's entry id: the uid of its first stored report. */
  uid: string;
  /** When a report last joined (the entry's content changed then), or null. */
  joinedAt: number | null;
  /** The story's other reports, first published first. */
  related: RelatedReport[];
}

export interface PendingArticle {
  itemUid: string;
  sourceId: string;
  url: string;
  /** Failed attempts so far. */
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface PruneOptions {
  now: number;
  /** Items published before now - items are deleted. */
  items: number;
  /** Tombstones are forgotten this long after their item was pruned or last listed by its source. */
  fingerprints: number;
  /** The dedup window: story prints of reports older than twice this are no longer needed. */
  window: number;
}

export interface PruneResult {
  items: number;
  stories: number;
  tombstones: number;
}

/** How much of the database the search index holds. */
export interface SearchProgress {
  /** Every item stored so far is searchable. */
  current: boolean;
  /** The index is being built from the items (a new or lost index file, or one of an older layout): searches find the newest items first. */
  building: boolean;
  /** Entries not indexed yet (items inserted, edited or deleted since); while building, also the items not in yet. */
  backlog: number;
}

/** What /readyz asks of the store. */
export interface StoreHealth {
  /** The database answers. */
  open: boolean;
  /** Every migration this newsloom knows is applied. */
  schemaCurrent: boolean;
  schemaVersion: number;
}

export interface BackupResult {
  file: string;
  pages: number;
  bytes: number;
  /** The copy's integrity check: "ok", or the first problem found. */
  integrity: string;
}

export interface ItemStore {
  /** Stores a new item with its topics; its row id. */
  insert(item: Item, uid: string, now: number, tags?: Tag[]): Promise<number>;
  update(id: number, item: Item, now: number): Promise<void>;
  /** Replaces an item's topics with these tags. */
  setTopics(itemId: number, tags: Tag[]): Promise<void>;
  get(id: number): Promise<StoredItem | undefined>;
  /** Why an item carries each of its topics. */
  matches(id: number): Promise<{ topic: string; matches: TopicMatch[] }[]>;
  /** The id of the item a person refers to by its row id, its public uid (with or without urn:uuid:) or its URL. */
  find(ref: string): Promise<number | undefined>;
  /** Up to `limit` items after the row id `afterId`, in id order, with their stored tags: a batch of re-tagging. */
  taggingBatch(afterId: number, limit: number): Promise<TaggedItem[]>;
  count(): Promise<number>;
  /**
   * Newest first (a search: best first, unless sorted by date): the entries of an output feed, one per story unless
   * `everyItem`, each with its story's facts.
   */
  list(query: ItemQuery): Promise<StoredItem[]>;
  /**
   * How many entries the query's feed holds in all, ignoring its limit: the items it matches, or with one entry per
   * story (the default) the stories among them (an item filed under none is a story of its own).
   */
  countEntries(query: Omit<ItemQuery, 'limit'>): Promise<number>;
}

export interface SourceStore {
  get(id: string): Promise<SourceState | undefined>;
  /** The stored state of each of these sources (a feed page's), at once; a source never polled has none. */
  getMany(ids: string[]): Promise<Map<string, SourceState>>;
  /** Makes sure every configured source has a row; called at start and on reload. */
  sync(sources: { id: string; url: string }[]): Promise<void>;
  /** `ttlMs` is given when the feed was parsed (null: it has none) and left out for a 304. */
  recordSuccess(
    id: string,
    now: number,
    fields: { etag: string | null; lastModified: string | null; title?: string | null; siteUrl?: string | null; ttlMs?: number | null },
  ): Promise<void>;
  /**
   * Counts a permanent redirect (or its absence) on a successful poll; when the same one has been seen
   * REDIRECTS_TO_MOVE times in a row, the source moves there. Returns the new address when it just moved.
   */
  trackRedirect(id: string, to: string | null): Promise<string | null>;
  /** How many items a source published since a time, and the oldest and newest of their dates. */
  activity(id: string, since: number): Promise<{ count: number; oldest: number | null; newest: number | null }>;
  recordFailure(id: string, now: number, kind: string, message: string): Promise<void>;
  scheduleNext(id: string, at: number): Promise<void>;
  health(): Promise<SourceHealth[]>;
}

export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface ArticleStore {
  /** The source's pending fetches that are due, with the stored item's row id (null when it was never stored). */
  due(sourceId: string, now: number): Promise<(PendingArticle & { itemId: number | null })[]>;
  anyDue(sourceId: string, now: number): Promise<boolean>;
  record(pending: PendingArticle): Promise<void>;
  remove(itemUid: string): Promise<void>;
}

export interface FingerprintStore {
  /** The item these keys stand for, without writing anything: its id, null when it was pruned, undefined when unknown. */
  peek(sourceId: string, keys: string[], uid: string): Promise<number | null | undefined>;
  /**
   * What the items of one document of a source (each with its keys, most telling first, and its uid) are known as.
   * Tombstones that are listed again are touched; the answer also learns what the document stores, so that a later
   * item of it finds an earlier one, and writes the keys it learnt at `save`.
   */
  lookup(sourceId: string, keys: string[][], uids: string[], now: number): Promise<DocumentIdentities>;
  /** What each item of a document is known as, read without writing (before a transaction: what it will likely find). */
  known(sourceId: string, keys: string[][], uids: string[]): Promise<(KnownItem | undefined)[]>;
}

export interface StoryStore {
  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, that share band keys with this print, the
   * few sharing the most, the most first. Whether a candidate's story may take a report of this source is `openTo`.
   */
  candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number, now: number): Promise<StoryCandidate[]>;
  /**
   * Whether a story can take a report from this source: none of its reports is from it yet. A source's own items are
   * distinct items (series, updates, digests), never one story.
   */
  openTo(storyId: number, sourceId: string): Promise<boolean>;
  /** Files a newly stored item under its story, and indexes its print for the reports that come after it. */
  add(report: NewReport, now: number, windowMs: number): Promise<void>;
  /** Readies the index of recent reports now rather than at the first lookup (the daemon's start); how many it holds. */
  load(now: number, windowMs: number): Promise<number>;
  /** The stories of these items, as their output entries show them, by item id; an item filed under none has no entry. */
  facts(itemIds: number[]): Promise<Map<number, StoryFacts>>;
}

export interface SearchIndex {
  /** Resolves once everything committed so far is searchable. */
  settled(): Promise<void>;
  progress(): Promise<SearchProgress>;
  /** Whether the index is being built, given its stamp (Generation.search). */
  building(stamp: string): Promise<boolean>;
}

/** The aggregates: what a transaction handle offers, and the store itself outside of one. */
export interface Stores {
  items: ItemStore;
  sources: SourceStore;
  meta: MetaStore;
  articles: ArticleStore;
  fingerprints: FingerprintStore;
  stories: StoryStore;
}

/**
 * A transaction's handle: the same aggregates, writing inside it. Its callback waits on nothing but the store (no
 * fetching, no timers), so that a transaction is as short as its writes.
 */
export type Transaction = Stores;

export interface Store extends Stores {
  /** The full-text index (its progress, and a promise for when it has caught up). */
  search: SearchIndex;
  /** Counters that move with every write a feed could show (feeds) or the index page's source health shows (health), and where the search index stands: cache keys. */
  generation(): Promise<Generation>;
  /** Deletes items past retention, keeping their fingerprints as tombstones. */
  prune(options: PruneOptions): Promise<PruneResult>;
  /** The daily housekeeping after a prune: the engine's statistics and log upkeep. */
  optimize(): Promise<void>;
  /** Runs fn in one transaction: all of it is visible, or none. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs fn in one transaction with the other writes waiting at the same moment (polls that finished together): each is
   * a savepoint of its own, so its failure undoes it alone, and all of them commit at once, sharing the cost of a commit.
   * All of fn is visible, or none of it.
   */
  write<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** For /readyz: whether the database answers and its schema is current. */
  health(): Promise<StoreHealth>;
  /** For /metrics: bytes of the database in use. */
  size(): Promise<number>;
  /** For /metrics: stored items carrying each topic. */
  tagsByTopic(): Promise<{ topic: string; count: number }[]>;
  /** Closes the store (the background thread, if any, is closed by whoever opened it). */
  close(): Promise<void>;
}

/** Counters that move with every write a feed could show (feeds) or the index page's source health shows (health), and where the search index stands (search): cache keys. */
export interface Generation {
  feeds: number;
  health: number;
  search: string;
}

export interface StoreOptions {
  /**
   * Keep the search index on this background thread (the daemon): searches see an item once it has been indexed there,
   * usually within a fraction of a second. Otherwise (one-shot commands, tests) a search first indexes what is pending.
   */
  background?: BackgroundThread | undefined;
  /** Told when the background thread cannot keep the search index (it tries again by itself). */
  onSearchError?: ((message: string) => void) | undefined;
  /** Told when a build of the search index from the items starts and ends (a new, lost or older-layout index file). */
  onSearchBuild?: ((message: string) => void) | undefined;
  /** Told before each migration is applied to a database that has data (some rewrite a table: seconds per million items). */
  onMigration?: ((migration: { version: number; name: string }) => void) | undefined;
  /** PostgreSQL: never write nor migrate (a web replica, or one on a hot standby); wait until a writer has migrated the schema. */
  readOnly?: boolean | undefined;
  /** PostgreSQL: how long to keep trying to reach the server at start (one-shot commands: 10 s; the daemon: for ever, Infinity). */
  connectTimeoutMs?: number | undefined;
  /** PostgreSQL: told each time opening waits (the server cannot be reached yet, or a read-only store waits for the schema). */
  onWait?: ((message: string) => void) | undefined;
}

/** Where the store is (config.storage): a SQLite file, or a PostgreSQL database when `url` is given. */
export type StorageConfig = Pick<Config['storage'], 'path'> & Partial<Omit<Config['storage'], 'path'>>;

/** Opens the store the config names: PostgreSQL when it gives a url, else the SQLite file at its path. */
export function openStore(storage: StorageConfig, options: StoreOptions = {}): Promise<Store> {
  if (storage.url) return openPostgresStore({ url: storage.url, password: storage.password, pool: storage.pool ?? DEFAULT_POOL }, options);
  return openSqliteStore(storage.path, options);
}

/** Connections a PostgreSQL store keeps at most when the config does not say (storage.pool). */
const DEFAULT_POOL = 10;

/** The store as logs and messages may name it: the SQLite file, or the PostgreSQL URL without its password. */
export function describeStorage(storage: StorageConfig): string {
  return storage.url ? redactUrl(storage.url) : storage.path;
}

/** A consistent, checked copy of the configured database at `target`, safe while a daemon writes it. */
export function backupStore(storage: StorageConfig, target: string): Promise<BackupResult> {
  if (storage.url) {
    return Promise.reject(
      new OperatorError(
        `newsloom backup copies a SQLite database; this one is on PostgreSQL (${redactUrl(storage.url)}): use pg_dump, as in pg_dump -Fc -f ${target} '${redactUrl(storage.url)}'`,
      ),
    );
  }
  return backupSqlite(storage.path, target);
}

/** A sentence for an operator when an error is about the storage itself (a full disk, a read-only file), else undefined. */
export function storageProblem(err: unknown): string | undefined {
  return sqliteProblem(err) ?? postgresProblem(err);
}

/**
 * Takes the store's one-daemon lock (a second daemon on the same database is refused with DatabaseHeldError, naming
 * the holder); the daemon holds it while it runs. Commands that only read never take it. On PostgreSQL many processes
 * share the database by design (pollers, web replicas): there is nothing to hold.
 */
export function lockStore(storage: StorageConfig): DaemonLock {
  if (storage.url) return { release: () => {} };
  return lockDatabase(storage.path);
}

export { DatabaseHeldError, type DaemonLock } from './sqlite/daemon-lock.ts';

/** The store's service on the background thread (background-worker.ts): SQLite keeps its search index there. */
export { searchService } from './sqlite/search-worker.ts';
