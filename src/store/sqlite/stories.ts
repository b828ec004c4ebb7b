// Stories: which items tell the same story, found through the in-memory MinHash band index over the recent story
// prints (never a table scan), and what an output entry of a story shows: its entry id, when it last changed, and
// its other reports.
import { storyBands, type StoryPrint } from '../../text/stories.ts';
import { BandIndex } from '../band-index.ts';
import type { NewReport, RelatedReport, StoryCandidate, StoryFacts, StoryStore as Stories } from '../store.ts';
import type { Db } from './db.ts';

/** Reports compared word by word: those sharing the most bands (MinHash's estimate of resemblance). */
const COMPARED = 8;

type PrintRow = [itemId: number, storyId: number, sourceId: string, publishedAt: number, words: Buffer];

export class StoryStore implements Stories {
  private readonly statements;
  /** Built from story_prints at the first lookup; undefined until then and after a rolled-back transaction. */
  private index: BandIndex | undefined;
  /** The last item the index has seen: reports other connections stored after it are read in before a lookup. */
  private indexedUpTo = 0;
  /** PRAGMA data_version when the index last caught up: it moves only when another connection commits. */
  private seenVersion = -1;

  constructor(db: Db) {
    this.statements = {
      newStory: db.prepare<[string]>(`INSERT INTO stories (uid) VALUES (?)`),
      joined: db.prepare<[number, number]>(`UPDATE stories SET joined_at = ? WHERE id = ?`),
      addItem: db.prepare<[number, number, string, number]>(`INSERT INTO story_items (item_id, story_id, source_id, published_at) VALUES (?, ?, ?, ?)`),
      addPrint: db.prepare<[number, number, Buffer]>(`INSERT INTO story_prints (item_id, published_at, words) VALUES (?, ?, ?)`),
      // The prints of reports published since a date (the index's first build), and of reports stored after a given
      // item (those another connection stored since), with what the index keeps of each.
      printsSince: db
        .prepare<[number], PrintRow>(
          `SELECT p.item_id, m.story_id, m.source_id, p.published_at, p.words FROM story_prints p
           JOIN story_items m ON m.item_id = p.item_id WHERE p.published_at >= ?`,
        )
        .raw(),
      printsAfter: db
        .prepare<[number], PrintRow>(
          `SELECT m.item_id, m.story_id, m.source_id, m.published_at, p.words FROM story_items m
           JOIN story_prints p ON p.item_id = m.item_id WHERE m.item_id > ?`,
        )
        .raw(),
      lastItem: db.prepare<[], number | null>(`SELECT max(item_id) FROM story_items`).pluck(),
      dataVersion: db.prepare<[], number>(`PRAGMA data_version`).pluck(),
      hasSource: db.prepare<[number, string], number>(`SELECT 1 FROM story_items WHERE story_id = ? AND source_id = ? LIMIT 1`).pluck(),
      // The stories of a page's items and their other reports, first published first: the page's ids as one JSON array.
      facts: db.prepare<[string], { item_id: number; uid: string; joined_at: number | null }>(
        `SELECT m.item_id, s.uid, s.joined_at FROM story_items m JOIN stories s ON s.id = m.story_id
         WHERE m.item_id IN (SELECT value FROM json_each(?))`,
      ),
      related: db.prepare<[string], RelatedReport & { of: number }>(
        `SELECT p.item_id AS "of", i.source_id AS sourceId, i.title, i.url FROM story_items p
         JOIN story_items m ON m.story_id = p.story_id AND m.item_id != p.item_id JOIN items i ON i.id = m.item_id
         WHERE p.item_id IN (SELECT value FROM json_each(?)) ORDER BY p.item_id, m.published_at, m.item_id`,
      ),
    };
  }

  /**
   * Reports from other sources, published within `windowMs` of `publishedAt`, that share band keys with this print,
   * the COMPARED sharing the most, the most first. The index holds the reports published since `now` - 2 × `windowMs`,
   * as housekeeping keeps story prints; the buckets along each band's path are read, in memory. Whether a candidate's story may take a report
   * of this source is asked of the one that matches (`openTo`), not of every candidate.
   */
  async candidates(print: StoryPrint, sourceId: string, publishedAt: number, windowMs: number, now: number): Promise<StoryCandidate[]> {
    if (print.bands.length === 0) return [];
    return this.current(now - 2 * windowMs)
      .matches(print.bands, sourceId, publishedAt, windowMs, COMPARED)
      .map(({ report }) => report);
  }

  /**
   * Whether a story can take a report from this source: none of its reports is from it yet. A source's own items are
   * distinct items (series, updates, digests), never one story.
   */
  async openTo(storyId: number, sourceId: string): Promise<boolean> {
    return this.statements.hasSource.get(storyId, sourceId) === undefined;
  }

  /** Files a newly stored item under its story, and indexes its print for the reports that come after it. */
  async add(report: NewReport, now: number, windowMs: number): Promise<void> {
    const index = this.current(now - 2 * windowMs);
    let storyId = report.storyId;
    if (storyId === undefined) storyId = Number(this.statements.newStory.run(report.uid).lastInsertRowid);
    else this.statements.joined.run(now, storyId);
    this.statements.addItem.run(report.itemId, storyId, report.sourceId, report.publishedAt);
    const { words, bands } = report.print;
    this.statements.addPrint.run(report.itemId, report.publishedAt, Buffer.from(words.buffer, words.byteOffset, words.byteLength));
    index.add({ itemId: report.itemId, storyId, sourceId: report.sourceId, publishedAt: report.publishedAt, words }, bands);
    this.indexedUpTo = Math.max(this.indexedUpTo, report.itemId);
  }

  /**
   * Builds the band index now, rather than at the first lookup (the daemon does at start, so that its first poll does
   * not wait for it); the number of recent reports it holds.
   */
  async load(now: number, windowMs: number): Promise<number> {
    return this.current(now - 2 * windowMs).size;
  }

  /** After a rolled-back transaction: the index may hold reports that were never stored, so it is built again when next needed. */
  forget(): void {
    this.index = undefined;
  }

  /** After a prune: the index lets go of the reports published before `cutoff`. */
  trim(cutoff: number): void {
    this.index?.trim(cutoff);
  }

  async facts(itemIds: number[]): Promise<Map<number, StoryFacts>> {
    return this.factsOf(itemIds);
  }

  /** facts(), at once: for the item store's pages. */
  factsOf(itemIds: number[]): Map<number, StoryFacts> {
    const stories = new Map<number, StoryFacts>();
    if (itemIds.length === 0) return stories;
    const ids = JSON.stringify(itemIds);
    for (const row of this.statements.facts.all(ids)) stories.set(row.item_id, { uid: row.uid, joinedAt: row.joined_at, related: [] });
    for (const { of, ...report } of this.statements.related.all(ids)) stories.get(of)?.related.push(report);
    return stories;
  }

  /** The band index, built from the prints published since `since` when there is none, and caught up when another connection has committed. */
  private current(since: number): BandIndex {
    let index = this.index;
    const version = this.statements.dataVersion.get()!;
    if (!index) {
      index = this.index = new BandIndex();
      this.indexedUpTo = this.statements.lastItem.get() ?? 0;
      for (const row of this.statements.printsSince.iterate(since)) this.indexRow(index, row);
    } else if (version !== this.seenVersion) {
      for (const row of this.statements.printsAfter.iterate(this.indexedUpTo)) this.indexRow(index, row);
    }
    this.seenVersion = version;
    return index;
  }

  private indexRow(index: BandIndex, [itemId, storyId, sourceId, publishedAt, blob]: PrintRow): void {
    const words = wordsOf(blob);
    index.add({ itemId, storyId, sourceId, publishedAt, words }, storyBands(words));
    this.indexedUpTo = Math.max(this.indexedUpTo, itemId);
  }
}

function wordsOf(blob: Buffer): Uint32Array {
  // A Uint32Array view needs a 4-byte aligned offset; copy in the rare case the driver's buffer is not.
  if (blob.byteOffset % 4 !== 0) return new Uint32Array(new Uint8Array(blob).buffer);
  return new Uint32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
}
