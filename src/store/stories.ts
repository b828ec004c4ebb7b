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

export class StoryStore {
  private readonly db: Db;
  private readonly statements;
  private readonly candidateQueries = new Map<number, ReturnType<StoryStore['prepareCandidates']>>();

  constructor(db: Db) {
    this.db = db;
    this.statements = {
      newStory: db.prepare<[string]>(`INSERT INTO stories (uid) VALUES (?)`),
      joined: db.prepare<[number, number]>(`UPDATE stories SET joined_at = ? WHERE id = ?`),
      addItem: db.prepare<[number, number, string, number]>(`INSERT INTO story_items (item_id, story_id, source_id, published_at) VALUES (?, ?, ?, ?)`),
      addPrint: db.prepare<[number, number, Buffer]>(`INSERT INTO story_prints (published_at, item_id, words) VALUES (?, ?, ?)`),
      addBand: db.prepare<[number, number, number]>(`INSERT OR IGNORE INTO story_bands (band, published_at, item_id) VALUES (?, ?, ?)`),
      facts: db.prepare<[number], { uid: string; joined_at: number | null; story_id: number }>(
        `SELECT s.uid, s.joined_at, s.id AS story_id FROM story_items m JOIN stories s ON s.id = m.story_id WHERE m.item_id = ?`,
      ),
      related: db.prepare<[number, number], RelatedReport>(
        `SELECT i.source_id AS sourceId, i.title, i.url FROM story_items m JOIN items i ON i.id = m.item_id
         WHERE m.story_id = ? AND m.item_id != ? ORDER BY m.published_at, m.item_id`,
      ),
      earlier: db.prepare<[number], { item_id: number }>(
        `SELECT o.item_id FROM story_items m JOIN story_items o ON o.story_id = m.story_id
         WHERE m.item_id = ? AND (o.published_at, o.item_id) < (m.published_at, m.item_id)`,
      ),
    };
  }

  /**
   * Reports published within `windowMs` of `publishedAt` that share a band key with this print, from stories that
   * no report of this source belongs to yet (a source's own items are distinct items: series, updates, digests).
   */
  candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number): StoryCandidate[] {
    if (print.bands.length === 0) return [];
    let query = this.candidateQueries.get(print.bands.length);
    if (!query) {
      query = this.prepareCandidates(print.bands.length);
      this.candidateQueries.set(print.bands.length, query);
    }
    return query.all(...print.bands, publishedAt - windowMs, publishedAt + windowMs, sourceId).map((row) => ({
      itemId: row.item_id,
      storyId: row.story_id,
      words: wordsOf(row.words),
    }));
  }

  private prepareCandidates(bands: number) {
    return this.db.prepare<(number | string)[], { item_id: number; story_id: number; words: Buffer }>(
      `SELECT DISTINCT p.item_id, s.story_id, p.words
       FROM story_bands b
       JOIN story_prints p ON p.published_at = b.published_at AND p.item_id = b.item_id
       JOIN story_items s ON s.item_id = b.item_id
       WHERE b.band IN (${Array(bands).fill('?').join(', ')}) AND b.published_at BETWEEN ? AND ?
         AND NOT EXISTS (SELECT 1 FROM story_items m WHERE m.story_id = s.story_id AND m.source_id = ?)`,
    );
  }

  /** Files a newly stored item under its story, and indexes its print for the reports that come after it. */
  add(report: NewReport, now: number): void {
    let storyId = report.storyId;
    if (storyId === undefined) storyId = Number(this.statements.newStory.run(report.uid).lastInsertRowid);
    else this.statements.joined.run(now, storyId);
    this.statements.addItem.run(report.itemId, storyId, report.sourceId, report.publishedAt);
    const { words, bands } = report.print;
    this.statements.addPrint.run(report.publishedAt, report.itemId, Buffer.from(words.buffer, words.byteOffset, words.byteLength));
    for (const band of bands) this.statements.addBand.run(band, report.publishedAt, report.itemId);
  }

  /** The story an item belongs to, as its output entry shows it; undefined for an item filed under none. */
  facts(itemId: number): StoryFacts | undefined {
    const row = this.statements.facts.get(itemId);
    return row && { uid: row.uid, joinedAt: row.joined_at, related: this.statements.related.all(row.story_id, itemId) };
  }

  /** The reports of an item's story published before it. */
  earlierReports(itemId: number): number[] {
    return this.statements.earlier.all(itemId).map((row) => row.item_id);
  }
}

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset; copy in the rare case the driver's buffer is not.
  if (blob.byteOffset % 4 !== 0) return new Uint32Array(new Uint8Array(blob).buffer);
  return new Uint32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
}
