// Stories on PostgreSQL, where several pollers file reports into one database at once: a report's band keys (the
// first key of each MinHash band's path, text/stories.ts) are rows of story_bands, so that each poller finds the
// reports the others filed, and filing is serialised: before reading candidates the transaction takes one advisory
// lock for story filing, which it holds until it commits, so the second of two reports of one story filed at once
// waits for the first to commit and then finds it: two pollers make one story of them. One lock, not one per band key:
// a group commit files the reports of many polls in one transaction, and per-key locks taken report after report made
// the transactions of three pollers wait on each other in circles (deadlocks, each found after deadlock_timeout and
// undone) and on common words' keys, until polls outlived their leases (tests/cluster-processes.test.ts). The
// writers take turns at filing from their first report to their commit; fetching, parsing and tagging stay parallel.
import type { StoryPrint } from '../../text/stories.ts';
import type { NewReport, RelatedReport, StoryCandidate, StoryFacts, StoryStore as Stories } from '../store.ts';
import { Deferring, type Sql } from './db.ts';

/** Reports compared word by word: those sharing the most bands (MinHash's estimate of resemblance). */
const COMPARED = 8;
/**
 * The newest reports a lookup reads under one band key: a common word's key can gather thousands within the window,
 * which would say little and cost the most (the in-memory index of SQLite bounds its buckets the same way).
 */
const PER_BAND = 256;
/** The advisory lock of story filing (two 32-bit keys): "NL", "ST". */
const STORY_LOCK = [0x4e4c_0000, 0x5354] as const;

/** The band keys of a print: the first key of each band's path (band × 2^32 + its smallest mixed word hash). */
function bandKeys(print: StoryPrint): number[] {
  return print.bands.map((path) => path[0]!).filter((key) => key !== undefined);
}

export class StoryStore implements Stories {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, sharing band keys with this print, the
   * COMPARED sharing the most (housekeeping keeps the band keys of 2 × the window, as SQLite's index holds). One round
   * trip: the rows the transaction holds back are written, the lock of story filing is taken (see above), and the
   * candidates are read; the reports of other writers are committed, and visible, by then.
   */
  async candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number): Promise<StoryCandidate[]> {
    const keys = bandKeys(print);
    if (keys.length === 0) return [];
    const locks = [STORY_LOCK];
    const pending = this.sql instanceof Deferring ? this.sql.take() : null;
    const rows = await this.sql.query<{ item_id: number; story_id: number; words: Buffer }>(
      `SELECT found_item AS item_id, found_story AS story_id, found_words AS words
       FROM newsloom_candidates($1::jsonb, $2::int[], $3::int[], $4::bigint[], $5, $6, $7, $8, $9)`,
      [pending, locks.map((l) => l[0]), locks.map((l) => l[1]), keys, publishedAt - windowMs, publishedAt + windowMs, sourceId, PER_BAND, COMPARED],
    );
    return rows.map((row) => ({ itemId: row.item_id, storyId: row.story_id, words: wordsOf(row.words) }));
  }

  async openTo(storyId: number, sourceId: string): Promise<boolean> {
    const rows = await this.sql.query(`SELECT 1 FROM story_items WHERE story_id = $1 AND source_id = $2 LIMIT 1`, [storyId, sourceId]);
    return rows.length === 0;
  }

  /**
   * Files a newly stored item under its story (a new one unless it joins one), with its print and band keys. In a
   * transaction the rows are sent with the next statement (db.ts, Deferring).
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
      bands: bandKeys(report.print),
    };
    if (this.sql instanceof Deferring) this.sql.defer('reports', row);
    else await this.sql.query(`SELECT newsloom_flush($1::jsonb)`, [JSON.stringify({ items: [], reports: [row] })]);
  }

  /** Nothing to ready: the index is a table. How many recent reports it holds. */
  async load(now: number, windowMs: number): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(`SELECT count(*) AS n FROM story_prints WHERE published_at >= $1`, [now - 2 * windowMs]);
    return row!.n;
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

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset: the driver's buffers are slices of larger ones.
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Uint32Array(copy.buffer);
}
