// The MinHash band index over recent story prints, held in memory: a report's candidates are read from small buckets
// in microseconds, and storing a report writes no index rows (eight random band keys per report made each poll's
// transaction dirty hundreds of scattered pages). It is derived data: story_prints on disk is the truth, and the
// index is rebuilt from it when lost.

/** A recent report as the band index holds it. */
export interface IndexedReport {
  itemId: number;
  storyId: number;
  sourceId: string;
  publishedAt: number;
  words: Uint32Array;
}

/** A report a lookup found, with the number of bands it shares with the print looked up. */
export interface SharedBands {
  report: IndexedReport;
  shared: number;
}

/**
 * The most reports a bucket takes; the reports that follow go to the next key of their band's path (the bucket of their
 * band's smallest two words, then three…), and only the last key's bucket grows past it. A crowded bucket is a common
 * word's: read whole it would cost the most and say the least, and read only in part (its newest 64 reports, once) it
 * lost the originals of reposts that came after a burst of other reports (57 % of them joined their story in
 * bench/dedup.ts's burst flow; passing over crowded buckets entirely lost more). Buckets of 32 made a lookup read a
 * third fewer postings, but 94.9 % of those reposts joined their story instead of 95.6 % (BENCHMARKS.md, issue 19).
 */
export const BUCKET_SIZE = 64;

/** Source numbers are packed with slot numbers into one number of a posting: at most this many sources. */
const SOURCES = 2 ** 20;

/**
 * Reports live in slots: everything the index keeps of one (ids, date, source, where its words start in one shared
 * pool) sits in typed arrays. A bucket is a list of postings, two numbers each: the slot and its source packed as
 * slot × SOURCES + source, and the report's date. A lookup filters a bucket by source and date reading it in order,
 * and tallies the slots that pass in a small table that stays in the processor's cache: the slots of a bucket are
 * scattered over the index, and reading each slot's columns cost a cache miss or more per posting.
 */
export class BandIndex {
  private readonly buckets = new Map<number, number[]>();
  private count = 0;
  private itemId = new Float64Array(1024);
  private storyId = new Float64Array(1024);
  private published = new Float64Array(1024);
  private source = new Int32Array(1024);
  private wordsAt = new Int32Array(1024);
  private wordCount = new Int32Array(1024);
  private words = new Uint32Array(65_536);
  private wordsUsed = 0;
  private readonly sourceNumbers = new Map<string, number>();
  private readonly sourceIds: string[] = [];
  /**
   * For a band's first key whose bucket is full, the latest reports under it (wherever along their paths they went): a
   * repost usually follows its original within hours, and its path may part from the original's after the first key.
   */
  private readonly latest = new Map<number, number[]>();
  /**
   * A lookup's tally, open addressing: slot + 1 (0: free), the bands it met, the band that met it last (a report can be
   * met twice in one band), and the table positions in the order met.
   */
  private tallySlot = new Int32Array(1024);
  private tallyCount = new Uint8Array(1024);
  private tallyBand = new Uint8Array(1024);
  private tallyOrder = new Int32Array(1024);

  /** The number of reports held. */
  get size(): number {
    return this.count;
  }

  /** Indexes a report under its band paths (storyBands): in each, the first bucket along it that has room. */
  add(report: IndexedReport, bands: number[][]): void {
    const slot = this.count++;
    if (slot === this.itemId.length) this.resize(slot * 2);
    const source = this.sourceNumber(report.sourceId);
    this.itemId[slot] = report.itemId;
    this.storyId[slot] = report.storyId;
    this.published[slot] = report.publishedAt;
    this.source[slot] = source;
    this.wordsAt[slot] = this.keepWords(report.words);
    this.wordCount[slot] = report.words.length;
    for (const path of bands) this.post(path, slot * SOURCES + source, report.publishedAt);
  }

  /**
   * The `limit` reports from other sources published within `windowMs` of `publishedAt` that share the most bands
   * (MinHash's estimate of how alike two prints are), the most first; among equals, the one met first (the newest of the
   * first band's buckets). Every bucket along each band's path is read, and of the last one only the newest BUCKET_SIZE.
   */
  matches(bands: number[][], sourceId: string, publishedAt: number, windowMs: number, limit = Infinity): SharedBands[] {
    if (bands.length > 255) throw new Error(`a print has ${bands.length} bands; the index counts up to 255`);
    this.tallyRoom(bands.reduce((keys, path) => keys + path.length + 1, 0) * BUCKET_SIZE);
    const own = this.sourceNumbers.get(sourceId) ?? -1;
    let met = 0;
    // A report sits in one bucket of each of its paths, and may be among the latest of its first key too: it is tallied
    // once per band it shares. A trim can empty a bucket whose path goes on, so every key of a path is looked up.
    for (let band = 0; band < bands.length; band++) {
      const path = bands[band]!;
      for (const key of path) {
        const bucket = this.buckets.get(key);
        if (bucket) met = this.tally(bucket, band, own, publishedAt, windowMs, met);
      }
      const latest = this.latest.get(path[0]!);
      if (latest) met = this.tally(latest, band, own, publishedAt, windowMs, met);
    }
    const { tallySlot, tallyCount, tallyOrder } = this;
    // A stable counting sort of the positions met, by bands shared (1 … bands.length), the most first.
    const most = bands.length;
    const starts = new Int32Array(most + 2);
    for (let k = 0; k < met; k++) starts[most - tallyCount[tallyOrder[k]!]! + 1]!++;
    for (let k = 1; k < starts.length; k++) starts[k]! += starts[k - 1]!;
    const ranked = new Int32Array(met);
    for (let k = 0; k < met; k++) ranked[starts[most - tallyCount[tallyOrder[k]!]!]!++] = tallyOrder[k]!;
    const result: SharedBands[] = [];
    for (let k = 0; k < Math.min(limit, met); k++) result.push({ report: this.report(tallySlot[ranked[k]!]! - 1), shared: tallyCount[ranked[k]!]! });
    for (let k = 0; k < met; k++) tallySlot[tallyOrder[k]!] = 0;
    return result;
  }

  /** Forgets the reports published before `cutoff`: the others move to the first slots, in order, and their words with them. */
  trim(cutoff: number): void {
    const moved = new Int32Array(this.count).fill(-1);
    const words = new Uint32Array(Math.max(65_536, this.wordsUsed));
    let kept = 0;
    let wordsUsed = 0;
    for (let slot = 0; slot < this.count; slot++) {
      if (this.published[slot]! < cutoff) continue;
      moved[slot] = kept;
      for (const column of [this.itemId, this.storyId, this.published, this.source, this.wordCount]) column[kept] = column[slot]!;
      words.set(this.words.subarray(this.wordsAt[slot], this.wordsAt[slot]! + this.wordCount[slot]!), wordsUsed);
      this.wordsAt[kept] = wordsUsed;
      wordsUsed += this.wordCount[slot]!;
      kept++;
    }
    this.count = kept;
    this.words = words;
    this.wordsUsed = wordsUsed;
    for (const lists of [this.buckets, this.latest]) {
      for (const [key, bucket] of lists) {
        const postings: number[] = [];
        for (let i = 0; i < bucket.length; i += 2) {
          const slot = moved[Math.floor(bucket[i]! / SOURCES)]!;
          if (slot >= 0) postings.push(slot * SOURCES + this.source[slot]!, bucket[i + 1]!);
        }
        if (postings.length === 0) lists.delete(key);
        else lists.set(key, postings);
      }
    }
    this.resize(Math.max(1024, kept * 2));
  }

  /**
   * Tallies the newest BUCKET_SIZE postings of a bucket that pass the source and date filters, for the band-th band of
   * the print looked up; returns how many slots the tally has met.
   */
  private tally(bucket: number[], band: number, own: number, publishedAt: number, windowMs: number, met: number): number {
    const { tallySlot, tallyCount, tallyBand, tallyOrder } = this;
    const mask = tallySlot.length - 1;
    for (let i = bucket.length - 2, last = Math.max(0, bucket.length - 2 * BUCKET_SIZE); i >= last; i -= 2) {
      const packed = bucket[i]!;
      const slot = Math.floor(packed / SOURCES);
      if (packed - slot * SOURCES === own || Math.abs(bucket[i + 1]! - publishedAt) > windowMs) continue;
      for (let at = Math.imul(slot, 0x9e3779b1) & mask; ; at = (at + 1) & mask) {
        const held = tallySlot[at];
        if (held === slot + 1) {
          if (tallyBand[at] !== band) {
            tallyCount[at]!++;
            tallyBand[at] = band;
          }
          break;
        }
        if (held === 0) {
          tallySlot[at] = slot + 1;
          tallyCount[at] = 1;
          tallyBand[at] = band;
          tallyOrder[met++] = at;
          break;
        }
      }
    }
    return met;
  }

  private post(path: number[], packed: number, publishedAt: number): void {
    const first = this.buckets.get(path[0]!);
    if (!first) {
      // A date in ms is no small integer, so V8 keeps each list as unboxed doubles, one after the other in memory.
      this.buckets.set(path[0]!, [packed, publishedAt]);
      return;
    }
    if (first.length < 2 * BUCKET_SIZE || path.length === 1) {
      first.push(packed, publishedAt);
      return;
    }
    // The latest reports under a crowded first key, wherever along their paths they went: between BUCKET_SIZE and
    // twice as many, the older half dropped at once.
    const latest = this.latest.get(path[0]!);
    if (!latest) this.latest.set(path[0]!, [packed, publishedAt]);
    else {
      if (latest.length >= 4 * BUCKET_SIZE) latest.splice(0, 2 * BUCKET_SIZE);
      latest.push(packed, publishedAt);
    }
    for (let depth = 1; depth < path.length; depth++) {
      const bucket = this.buckets.get(path[depth]!);
      if (!bucket) {
        this.buckets.set(path[depth]!, [packed, publishedAt]);
        return;
      }
      if (bucket.length < 2 * BUCKET_SIZE || depth === path.length - 1) {
        bucket.push(packed, publishedAt);
        return;
      }
    }
  }

  /** A tally table with room for `distinct` slots at most half full. */
  private tallyRoom(distinct: number): void {
    if (this.tallySlot.length >= 2 * distinct) return;
    const size = 2 ** Math.ceil(Math.log2(2 * distinct));
    this.tallySlot = new Int32Array(size);
    this.tallyCount = new Uint8Array(size);
    this.tallyBand = new Uint8Array(size);
    this.tallyOrder = new Int32Array(size);
  }

  private report(slot: number): IndexedReport {
    const at = this.wordsAt[slot]!;
    return {
      itemId: this.itemId[slot]!,
      storyId: this.storyId[slot]!,
      sourceId: this.sourceIds[this.source[slot]!]!,
      publishedAt: this.published[slot]!,
      words: this.words.subarray(at, at + this.wordCount[slot]!),
    };
  }

  /** Copies a print's words into the pool; where they start. */
  private keepWords(words: Uint32Array): number {
    if (this.wordsUsed + words.length > this.words.length) {
      const bigger = new Uint32Array(Math.max(this.words.length * 2, this.wordsUsed + words.length));
      bigger.set(this.words.subarray(0, this.wordsUsed));
      this.words = bigger;
    }
    const at = this.wordsUsed;
    this.words.set(words, at);
    this.wordsUsed += words.length;
    return at;
  }

  private sourceNumber(sourceId: string): number {
    let n = this.sourceNumbers.get(sourceId);
    if (n === undefined) {
      if (this.sourceIds.length === SOURCES) throw new Error(`the story index holds reports of ${SOURCES} sources at most`);
      n = this.sourceIds.push(sourceId) - 1;
      this.sourceNumbers.set(sourceId, n);
    }
    return n;
  }

  private resize(capacity: number): void {
    this.itemId = grown(this.itemId, capacity);
    this.storyId = grown(this.storyId, capacity);
    this.published = grown(this.published, capacity);
    this.source = grown(this.source, capacity);
    this.wordsAt = grown(this.wordsAt, capacity);
    this.wordCount = grown(this.wordCount, capacity);
  }
}

/** A copy of `old` with room for `capacity` numbers (cut to that when it is smaller). */
function grown<T extends Float64Array | Int32Array>(old: T, capacity: number): T {
  const next = new (old.constructor as new (n: number) => T)(capacity);
  next.set(old.subarray(0, Math.min(old.length, capacity)));
  return next;
}
