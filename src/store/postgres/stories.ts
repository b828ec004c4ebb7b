// Stories on PostgreSQL, where several pollers file reports into one database at once. Each process keeps the band
// index of the recent reports in memory (store/band-index.ts, as SQLite's engine does: a lookup reads small buckets in
// microseconds, where reading band key rows in the database cost the server the most of a poll), built from
// story_prints and brought up to date before each lookup with the prints filed since it last read (a higher seq,
// migrations.ts 3). Filing is serialised: before reading what was filed the transaction takes one advisory lock for
// story filing, which it holds until it commits, and prints are only written under it, so the second of two reports
// of one story filed at once waits for the first to commit and then reads it: two pollers make one story of them.
// One lock, not one per band key: a group commit files the reports of many polls in one transaction, and per-key locks
// taken report after report made the transactions of three pollers wait on each other in circles (deadlocks) and on
// common words' keys, until polls outlived their leases (tests/cluster-processes.test.ts). The writers take turns at
// filing from their first lookup to their commit; fetching, parsing and tagging stay parallel.
import { storyBands, type StoryPrint } from '../../text/stories.ts';
import { BandIndex } from '../band-index.ts';
import type { NewReport, RelatedReport, StoryCandidate, StoryFacts, StoryStore as Stories } from '../store.ts';
import { Deferring, type Filed, type Sql } from './db.ts';

/** Reports compared word by word: those sharing the most bands (MinHash's estimate of resemblance). */
const COMPARED = 8;
/** How often the index lets go of the reports older than twice the window (housekeeping prunes their prints). */
const TRIM_EVERY_MS = 3_600_000;

type ReportRow = { item: number | null; story: number; source: string; published: number; words: Buffer; seq: number };

/**
 * The recent reports of every transaction of one store: the band index, the highest seq it has read, and when it was
 * last trimmed. Forgotten when a transaction that read into it rolls back (it may hold reports never committed).
 */
export class RecentReports {
  index: BandIndex | undefined;
  seen = 0;
  trimmedAt = 0;

  forget(): void {
    this.index = undefined;
  }
}

/** A report this transaction filed that the index has not read yet: what the index keeps of it besides its story. */
interface Unfiled {
  sourceId: string;
  publishedAt: number;
  words: Uint32Array;
  bands: number[][];
}

export class StoryStore implements Stories {
  private readonly sql: Sql;
  private readonly recent: RecentReports;
  /** A transaction's store (rows held back, the lock held until commit), not the pool's (each statement its own). */
  private readonly transactional: boolean;
  /** The index as this transaction last read into it: the reports it files go in straight away while it is still the one. */
  private syncedIndex: BandIndex | undefined;
  /** Whether this transaction has read into the index: a rollback must then forget it. */
  get synced(): boolean {
    return this.syncedIndex !== undefined;
  }
  /** The reports it filed that are not written yet, by item. */
  private readonly unfiled = new Map<number, Unfiled>();
  /** Whether a report it filed went to the database but not into the index: a lookup reads the index again first. */
  private missed = false;

  constructor(sql: Sql, recent: RecentReports) {
    this.sql = sql;
    this.recent = recent;
    this.transactional = sql instanceof Deferring;
    if (sql instanceof Deferring) sql.onFiled = (filed) => this.filed(filed);
  }

  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, sharing band keys with this print, the
   * COMPARED sharing the most. The first lookup of a transaction writes the rows it holds back, takes the lock of story
   * filing and reads what others filed since (one round trip); the lock is then held until commit, so nobody else
   * files meanwhile, the reports this transaction files go into the index when they are written (newsloom_flush says
   * their stories and seqs), and the lookups that follow are read in memory. Only while a report of another source
   * than the one looked up is still held back (a source's own reports are never its candidates) is the index read
   * again, writing it.
   */
  async candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number, now: number): Promise<StoryCandidate[]> {
    if (print.bands.length === 0) return [];
    let index = this.recent.index;
    if (!this.transactional || this.missed || !index || index !== this.syncedIndex || this.holdsBackOther(sourceId)) {
      index = await this.read(now, windowMs);
    }
    return index.matches(print.bands, sourceId, publishedAt, windowMs, COMPARED).map(({ report }) => report);
  }

  async openTo(storyId: number, sourceId: string): Promise<boolean> {
    const rows = await this.sql.query(`SELECT 1 FROM story_items WHERE story_id = $1 AND source_id = $2 LIMIT 1`, [storyId, sourceId]);
    return rows.length === 0;
  }

  /**
   * Files a newly stored item under its story (a new one unless it joins one), with its print. In a transaction the
   * rows are sent with the next statement (db.ts, Deferring); the index reads the report in with the next lookup.
   */
  async add(report: NewReport, now: number): Promise<void> {
    const { words } = report.print;
    const row = {
      itemId: report.itemId,
      uid: report.uid,
      storyId: report.storyId ?? null,
      sourceId: report.sourceId,
      publishedAt: report.publishedAt,
      now,
      words: Buffer.from(words.buffer, words.byteOffset, words.byteLength).toString('base64'),
    };
    if (this.sql instanceof Deferring) {
      this.unfiled.set(report.itemId, { sourceId: report.sourceId, publishedAt: report.publishedAt, words, bands: report.print.bands });
      this.sql.defer('reports', row);
    } else await this.sql.query(`SELECT newsloom_flush($1::jsonb)`, [JSON.stringify({ items: [], reports: [row] })]);
  }

  /**
   * Brings the index up to date under the lock of story filing: built from the prints of the last 2 × `windowMs` when
   * there is none (as housekeeping keeps them), else the prints filed since it last read. Read again when another
   * transaction of this store forgot or rebuilt the index meanwhile.
   */
  private async read(now: number, windowMs: number): Promise<BandIndex> {
    let pending = this.sql instanceof Deferring ? this.sql.take() : null;
    const since = now - 2 * windowMs;
    for (;;) {
      const recent = this.recent;
      const index = recent.index;
      const rows = await this.sql.query<ReportRow>(
        `SELECT found_item AS item, found_story AS story, found_source AS source, found_published AS published, found_words AS words, found_seq AS seq
         FROM newsloom_reports($1::jsonb, $2, $3)`,
        [pending, index ? recent.seen : null, since],
      );
      // The reports held back are written by this call, and read back with the others filed since.
      pending = null;
      this.unfiled.clear();
      this.missed = false;
      if (!index) {
        // A build: the first row holds the highest seq filed; another transaction's build may have landed first.
        const built = new BandIndex();
        let seen = 0;
        for (const row of rows) {
          seen = Math.max(seen, row.seq);
          if (row.item !== null) indexRow(built, row);
        }
        recent.index = built;
        recent.seen = seen;
        recent.trimmedAt = now;
        this.syncedIndex = built;
        return built;
      }
      if (recent.index !== index) continue;
      // Another transaction of this store may have read some of these already (its lookup and this one were sent at once).
      for (const row of rows) {
        if (row.seq <= recent.seen) continue;
        indexRow(index, row);
        recent.seen = row.seq;
      }
      if (now - recent.trimmedAt >= TRIM_EVERY_MS) {
        index.trim(since);
        recent.trimmedAt = now;
      }
      this.syncedIndex = index;
      return index;
    }
  }

  /**
   * Reports this transaction filed were written: into the index they go, while this transaction holds the lock of
   * story filing since it read the index (so that every seq above the index's is its own) and the index is the one it read.
   */
  private filed(rows: Filed[]): void {
    const { recent } = this;
    for (const row of rows) {
      const report = this.unfiled.get(row.item);
      this.unfiled.delete(row.item);
      if (!report) continue;
      const index = recent.index;
      if (!index || index !== this.syncedIndex || row.seq <= recent.seen) {
        this.missed = true;
        continue;
      }
      index.add({ itemId: row.item, storyId: row.story, sourceId: report.sourceId, publishedAt: report.publishedAt, words: report.words }, report.bands);
      recent.seen = row.seq;
    }
  }

  /** Whether a report of another source than `sourceId` is held back, not in the index yet. */
  private holdsBackOther(sourceId: string): boolean {
    for (const report of this.unfiled.values()) if (report.sourceId !== sourceId) return true;
    return false;
  }

  /** Builds the index now rather than at the first lookup (the daemon's start); the number of recent reports it holds. */
  async load(now: number, windowMs: number): Promise<number> {
    return (await this.read(now, windowMs)).size;
  }

  /** The stories of a page's items and their other reports, first published first: two statements for the whole page. */
  async facts(itemIds: number[]): Promise<Map<number, StoryFacts>> {
    const stories = new Map<number, StoryFacts>();
    if (itemIds.length === 0) return stories;
    const facts = await this.sql.query<{ item_id: number; uid: string; joined_at: number | null }>(
      `SELECT m.item_id, s.uid, s.joined_at FROM story_items m JOIN stories s ON s.id = m.story_id WHERE m.item_id = ANY($1::bigint[])`,
      [itemIds],
    );
    for (const row of facts) stories.set(row.item_id, { uid: row.uid, joinedAt: row.joined_at, related: [] });
    if (stories.size === 0) return stories;
    const related = await this.sql.query<RelatedReport & { of: number }>(
      `SELECT p.item_id AS "of", i.source_id AS "sourceId", i.title, i.url FROM story_items p
       JOIN story_items m ON m.story_id = p.story_id AND m.item_id <> p.item_id JOIN items i ON i.id = m.item_id
       WHERE p.item_id = ANY($1::bigint[]) ORDER BY p.item_id, m.published_at, m.item_id`,
      [[...stories.keys()]],
    );
    for (const { of, ...report } of related) stories.get(of)?.related.push(report);
    return stories;
  }
}

function indexRow(index: BandIndex, row: ReportRow): void {
  const words = wordsOf(row.words);
  index.add({ itemId: row.item!, storyId: row.story, sourceId: row.source, publishedAt: row.published, words }, storyBands(words));
}

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset: the driver's buffers are slices of larger ones.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Uint32Array(copy.buffer);
}
