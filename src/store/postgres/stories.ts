// Stories on PostgreSQL, where several pollers file reports into one database at once: a report's band keys (the
// first key of each MinHash band's path, text/stories.ts) are rows of story_bands, so that each poller finds the
// reports the others filed, and filing is serialised per band: before reading candidates the transaction takes an
// advisory lock on each of the report's band keys (in order, so two writers never wait on each other in a circle over
// one report), which it holds until it commits. Two reports of one story share a band key (sameStory requires it), so
// the second one filed waits for the first to commit and then finds it: two pollers make one story of them.
import type { StoryPrint } from '../../text/stories.ts';
import type { NewReport, RelatedReport, StoryCandidate, StoryFacts, StoryStore as Stories } from '../store.ts';
import type { Sql } from './db.ts';

/** Reports compared word by word: those sharing the most bands (MinHash's estimate of resemblance). */
const COMPARED = 8;
/**
 * The newest reports a lookup reads under one band key: a common word's key can gather thousands within the window,
 * which would say little and cost the most (the in-memory index of SQLite bounds its buckets the same way).
 */
const PER_BAND = 256;
/** The first key of advisory locks on band keys (the second is the key's 32-bit hash): "NL" and the band number. */
const BAND_LOCK = 0x4e4c_0000;

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
   * COMPARED sharing the most (housekeeping keeps the band keys of 2 × the window, as SQLite's index holds). Inside a
   * write, the report's band keys are locked first (see above): the reports of other writers that share them are
   * committed, and visible, by the time they are read.
   */
  async candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number): Promise<StoryCandidate[]> {
    const keys = bandKeys(print);
    if (keys.length === 0) return [];
    const locks = keys
      .map((key) => [BAND_LOCK + Math.floor(key / 2 ** 32), (key % 2 ** 32) | 0] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    await this.sql.query(`SELECT pg_advisory_xact_lock(l.band, l.word) FROM unnest($1::int[], $2::int[]) AS l(band, word)`, [
      locks.map((l) => l[0]),
      locks.map((l) => l[1]),
    ]);
    const rows = await this.sql.query<{ item_id: number; story_id: number; words: Buffer }>(
      `SELECT c.item_id, c.story_id, p.words FROM (
         SELECT b.item_id, b.story_id, count(*) AS shared FROM unnest($1::bigint[]) AS k(band)
         CROSS JOIN LATERAL (SELECT item_id, story_id FROM story_bands sb
           WHERE sb.band = k.band AND sb.published_at BETWEEN $2 AND $3 AND sb.source_id <> $4
           ORDER BY sb.published_at DESC LIMIT ${PER_BAND}) b
         GROUP BY b.item_id, b.story_id ORDER BY shared DESC, b.item_id LIMIT ${COMPARED}
       ) c JOIN story_prints p ON p.item_id = c.item_id ORDER BY c.shared DESC, c.item_id`,
      [keys, publishedAt - windowMs, publishedAt + windowMs, sourceId],
    );
    return rows.map((row) => ({ itemId: row.item_id, storyId: row.story_id, words: wordsOf(row.words) }));
  }

  async openTo(storyId: number, sourceId: string): Promise<boolean> {
    const rows = await this.sql.query(`SELECT 1 FROM story_items WHERE story_id = $1 AND source_id = $2 LIMIT 1`, [storyId, sourceId]);
    return rows.length === 0;
  }

  /** Files a newly stored item under its story (a new one unless it joins one), with its print and band keys, in one statement. */
  async add(report: NewReport, now: number): Promise<void> {
    const { words } = report.print;
    await this.sql.query(
      `WITH story AS (
         INSERT INTO stories (uid) SELECT $2 WHERE $3::bigint IS NULL RETURNING id
       ), joined AS (
         UPDATE stories SET joined_at = $6 WHERE id = $3::bigint RETURNING id
       ), chosen AS (
         SELECT id FROM story UNION ALL SELECT id FROM joined
       ), member AS (
         INSERT INTO story_items (item_id, story_id, source_id, published_at) SELECT $1, id, $4, $5 FROM chosen
       ), print AS (
         INSERT INTO story_prints (item_id, published_at, words) VALUES ($1, $5, $7)
       )
       INSERT INTO story_bands (band, published_at, item_id, story_id, source_id) SELECT k.band, $5, $1, chosen.id, $4 FROM chosen, unnest($8::bigint[]) AS k(band)`,
      [report.itemId, report.uid, report.storyId ?? null, report.sourceId, report.publishedAt, now, Buffer.from(words.buffer, words.byteOffset, words.byteLength), bandKeys(report.print)],
    );
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
