// Stories: which items tell the same story, found through an index of MinHash band keys (never a table scan),
// and what an output entry of a story shows: its entry id, when it last changed, and its other reports.
import type { StoryPrint } from '../pipeline/stories.ts';
import type { Db } from './db.ts';
import type { RelatedReport } from './items.ts';

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

/**
 * Reports read from one band's bucket on each side of a report's date, nearest first. A bigger bucket is a common
 * word's and tells little; a repost follows its original within hours, and shares its rarer words' bands too.
 */
const BUCKET_LIMIT = 8;
/** Reports compared word by word: those sharing the most bands (MinHash's estimate of resemblance). */
const COMPARED = 8;

export class StoryStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      newStory: db.prepare<[string]>(`INSERT INTO stories (uid) VALUES (?)`),
      joined: db.prepare<[number, number]>(`UPDATE stories SET joined_at = ? WHERE id = ?`),
      addItem: db.prepare<[number, number, string, number]>(`INSERT INTO story_items (item_id, story_id, source_id, published_at) VALUES (?, ?, ?, ?)`),
      addPrint: db.prepare<[number, number, Buffer]>(`INSERT INTO story_prints (published_at, item_id, words) VALUES (?, ?, ?)`),
      addBand: db.prepare<[number, number, number, number, string]>(
        `INSERT OR IGNORE INTO story_bands (band, published_at, item_id, story_id, source_id) VALUES (?, ?, ?, ?, ?)`,
      ),
      // One band's bucket, read outward from a report's date: those published before it, newest first (the
      // table's order), and those published after it, oldest first.
      before: db
        .prepare<[number, number, number, string], [number, number, number]>(
          `SELECT item_id, story_id, published_at FROM story_bands
           WHERE band = ? AND published_at BETWEEN ? AND ? AND source_id != ? LIMIT ${BUCKET_LIMIT}`,
        )
        .raw(),
      after: db
        .prepare<[number, number, number, string], [number, number, number]>(
          `SELECT item_id, story_id, published_at FROM story_bands
           WHERE band = ? AND published_at > ? AND published_at <= ? AND source_id != ? ORDER BY published_at LIMIT ${BUCKET_LIMIT}`,
        )
        .raw(),
      words: db.prepare<[number, number], Buffer>(`SELECT words FROM story_prints WHERE published_at = ? AND item_id = ?`).pluck(),
      hasSource: db.prepare<[number, string], number>(`SELECT 1 FROM story_items WHERE story_id = ? AND source_id = ? LIMIT 1`).pluck(),
      facts: db.prepare<[number], { uid: string; joined_at: number | null; story_id: number }>(
        `SELECT s.uid, s.joined_at, s.id AS story_id FROM story_items m JOIN stories s ON s.id = m.story_id WHERE m.item_id = ?`,
      ),
      related: db.prepare<[number, number], RelatedReport>(
        `SELECT i.source_id AS sourceId, i.title, i.url FROM story_items m JOIN items i ON i.id = m.item_id
         WHERE m.story_id = ? AND m.item_id != ? ORDER BY m.published_at, m.item_id`,
      ),
      earlier: db.prepare<[number], number>(
        `SELECT o.item_id FROM story_items m JOIN story_items o ON o.story_id = m.story_id
         WHERE m.item_id = ? AND (o.published_at, o.item_id) < (m.published_at, m.item_id)`,
      ).pluck(),
    };
  }

  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, that share band keys with this print
   * (the most first), from stories no report of this source belongs to yet: a source's own items are distinct items
   * (series, updates, digests). Each band is two index ranges of at most BUCKET_LIMIT rows: never a table scan.
   */
  candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number): StoryCandidate[] {
    if (print.bands.length === 0) return [];
    const shared = new Map<number, { storyId: number; publishedAt: number; bands: number }>();
    const count = ([itemId, storyId, at]: [number, number, number]) => {
      const seen = shared.get(itemId);
      if (seen) seen.bands++;
      else shared.set(itemId, { storyId, publishedAt: at, bands: 1 });
    };
    for (const band of print.bands) {
      this.statements.before.all(band, publishedAt - windowMs, publishedAt, sourceId).forEach(count);
      this.statements.after.all(band, publishedAt, publishedAt + windowMs, sourceId).forEach(count);
    }
    return [...shared]
      .sort((a, b) => b[1].bands - a[1].bands)
      .slice(0, COMPARED)
      .filter(([, c]) => this.statements.hasSource.get(c.storyId, sourceId) === undefined)
      .map(([itemId, c]) => ({ itemId, storyId: c.storyId, words: wordsOf(this.statements.words.get(c.publishedAt, itemId)!) }));
  }

  /** Files a newly stored item under its story, and indexes its print for the reports that come after it. */
  add(report: NewReport, now: number): void {
    let storyId = report.storyId;
    if (storyId === undefined) storyId = Number(this.statements.newStory.run(report.uid).lastInsertRowid);
    else this.statements.joined.run(now, storyId);
    this.statements.addItem.run(report.itemId, storyId, report.sourceId, report.publishedAt);
    const { words, bands } = report.print;
    this.statements.addPrint.run(report.publishedAt, report.itemId, Buffer.from(words.buffer, words.byteOffset, words.byteLength));
    for (const band of bands) this.statements.addBand.run(band, report.publishedAt, report.itemId, storyId, report.sourceId);
  }

  /** The story an item belongs to, as its output entry shows it; undefined for an item filed under none. */
  facts(itemId: number): StoryFacts | undefined {
    const row = this.statements.facts.get(itemId);
    return row && { uid: row.uid, joinedAt: row.joined_at, related: this.statements.related.all(row.story_id, itemId) };
  }

  /** The reports of an item's story published before it. */
  earlierReports(itemId: number): number[] {
    return this.statements.earlier.all(itemId);
  }
}

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset; copy in the rare case the driver's buffer is not.
  if (blob.byteOffset % 4 !== 0) return new Uint32Array(new Uint8Array(blob).buffer);
  return new Uint32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
}
