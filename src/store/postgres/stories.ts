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
import { Deferring, type Sql } from './db.ts';

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

export class StoryStore implements Stories {
  private readonly sql: Sql;
  private readonly recent: RecentReports;
  /** Whether this transaction has read into the index: a rollback must then forget it. */
  synced = false;
  /** Sources of the reports this transaction filed since it last read: a lookup for another source reads them first. */
  private readonly filedSince = new Set<string>();

  constructor(sql: Sql, recent: RecentReports) {
    this.sql = sql;
    this.recent = recent;
  }

  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, sharing band keys with this print, the
   * COMPARED sharing the most. The first lookup of a transaction writes the rows it holds back, takes the lock of story
   * filing and reads what others filed since (one round trip); the lock is then held until commit, so nobody else
   * files meanwhile and the lookups that follow are read in memory, until this transaction files a report from
   * another source than the one looked up (a source's own reports are never its candidates).
   */
  async candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number, now: number): Promise<StoryCandidate[]> {
    if (print.bands.length === 0) return [];
    const stale = !this.synced || this.filedSince.size > 1 || (this.filedSince.size === 1 && !this.filedSince.has(sourceId));
    const index = stale || !this.recent.index ? await this.read(now, windowMs) : this.recent.index;
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
    this.filedSince.add(report.sourceId);
    if (this.sql instanceof Deferring) this.sql.defer('reports', row);
    else await this.sql.query(`SELECT newsloom_flush($1::jsonb)`, [JSON.stringify({ items: [], reports: [row] })]);
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
      pending = null;
      this.synced = true;
      this.filedSince.clear();
      if (!index) {
        // A build: the first row holds the highest seq filed; another transaction's build may have landed first.
        const built = new BandIndex();
        let seen = 0;
        for (const row of rows) {
          seen = Math.max(seen, row.seq);
          if (row.item !== null) built.add(reportOf(row), storyBands(wordsOf(row.words)));
        }
        recent.index = built;
        recent.seen = seen;
        recent.trimmedAt = now;
        return built;
      }
      if (recent.index !== index) continue;
      // Another transaction of this store may have read some of these already (its lookup and this one were sent at once).
      for (const row of rows) {
        if (row.seq <= recent.seen) continue;
        index.add(reportOf(row), storyBands(wordsOf(row.words)));
        recent.seen = row.seq;
      }
      if (now - recent.trimmedAt >= TRIM_EVERY_MS) {
        index.trim(since);
        recent.trimmedAt = now;
      }
      return index;
    }
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

function reportOf(row: ReportRow) {
  return { itemId: row.item!, storyId: row.story, sourceId: row.source, publishedAt: row.published, words: wordsOf(row.words) };
}

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset: the driver's buffers are slices of larger ones.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Uint32Array(copy.buffer);
}
