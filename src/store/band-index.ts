// The MinHash band index over recent story prints, held in memory: a report's candidates are read from whole buckets
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
 * The most reports a lookup reads of one bucket, newest first. A crowded bucket is a common word's: read whole it would
 * cost the most and say the least, but a repost usually follows its original within hours, so the newest reports of
 * the bucket are the ones worth comparing (passing over crowded buckets entirely lost most reposts in a busy store).
 */
const READ_PER_BUCKET = 64;

/**
 * Reports live in slots: everything the index keeps of one (ids, date, source, where its words start in one shared
 * pool, a lookup's tally) sits in typed arrays, and a bucket is a list of slot numbers. Scanning a bucket reads memory in
 * order instead of chasing an object per report, and a report costs a few dozen bytes plus its words, not four objects.
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
  /** A lookup's tally: `mark` says which lookup last counted the slot, `shared` how many of its bands it met. */
  private mark = new Int32Array(1024);
  private shared = new Uint16Array(1024);
  private words = new Uint32Array(65_536);
  private wordsUsed = 0;
  private readonly sourceNumbers = new Map<string, number>();
  private readonly sourceIds: string[] = [];
  private lookups = 0;

  add(report: IndexedReport, bands: number[]): void {
    const slot = this.count++;
    if (slot === this.published.length) this.resize(slot * 2);
    this.itemId[slot] = report.itemId;
    this.storyId[slot] = report.storyId;
    this.published[slot] = report.publishedAt;
    this.source[slot] = this.sourceNumber(report.sourceId);
    this.wordsAt[slot] = this.keepWords(report.words);
    this.wordCount[slot] = report.words.length;
    for (const band of bands) {
      const bucket = this.buckets.get(band);
      if (bucket) bucket.push(slot);
      else this.buckets.set(band, [slot]);
    }
  }

  /**
   * The `limit` reports from other sources published within `windowMs` of `publishedAt` that share the most bands
   * (MinHash's estimate of how alike two prints are), the most first; among equals, the one met first (the newest of the
   * first band's bucket). Of a crowded bucket only the newest READ_PER_BUCKET reports are read.
   */
  matches(bands: number[], sourceId: string, publishedAt: number, windowMs: number, limit = Infinity): SharedBands[] {
    if (this.lookups === 0x7fffffff) {
      this.mark.fill(0);
      this.lookups = 0;
    }
    const mark = ++this.lookups;
    const own = this.sourceNumbers.get(sourceId) ?? -1;
    const { published, source, shared } = this;
    const marks = this.mark;
    const touched: number[] = [];
    for (const band of bands) {
      const bucket = this.buckets.get(band);
      if (!bucket) continue;
      for (let i = bucket.length - 1; i >= Math.max(0, bucket.length - READ_PER_BUCKET); i--) {
        const slot = bucket[i]!;
        if (source[slot] === own || Math.abs(published[slot]! - publishedAt) > windowMs) continue;
        if (marks[slot] !== mark) {
          marks[slot] = mark;
          shared[slot] = 0;
          touched.push(slot);
        }
        shared[slot]!++;
      }
    }
    return mostShared(touched, shared, bands.length, limit).map((slot) => ({ report: this.report(slot), shared: shared[slot]! }));
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
    for (const [band, bucket] of this.buckets) {
      const slots = bucket.map((slot) => moved[slot]!).filter((slot) => slot >= 0);
      if (slots.length === 0) this.buckets.delete(band);
      else this.buckets.set(band, slots);
    }
    this.mark.fill(0);
    this.resize(Math.max(1024, kept * 2));
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
      const grown = new Uint32Array(Math.max(this.words.length * 2, this.wordsUsed + words.length));
      grown.set(this.words.subarray(0, this.wordsUsed));
      this.words = grown;
    }
    const at = this.wordsUsed;
    this.words.set(words, at);
    this.wordsUsed += words.length;
    return at;
  }

  private sourceNumber(sourceId: string): number {
    let n = this.sourceNumbers.get(sourceId);
    if (n === undefined) {
      n = this.sourceIds.push(sourceId) - 1;
      this.sourceNumbers.set(sourceId, n);
    }
    return n;
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old.subarray(0, Math.min(old.length, capacity)));
      return next;
    };
    this.itemId = grow(this.itemId, (n) => new Float64Array(n));
    this.storyId = grow(this.storyId, (n) => new Float64Array(n));
    this.published = grow(this.published, (n) => new Float64Array(n));
    this.source = grow(this.source, (n) => new Int32Array(n));
    this.wordsAt = grow(this.wordsAt, (n) => new Int32Array(n));
    this.wordCount = grow(this.wordCount, (n) => new Int32Array(n));
    this.mark = grow(this.mark, (n) => new Int32Array(n));
    this.shared = grow(this.shared, (n) => new Uint16Array(n));
  }
}

/** The `limit` slots sharing the most bands, the most first, in the order they were met among equals (a stable top-k). */
function mostShared(slots: number[], shared: Uint16Array, most: number, limit: number): number[] {
  if (slots.length > limit) {
    // The tally runs from 1 to `most`: find the count the limit cuts into, keep every slot above it and the first at it.
    const sharing = new Array<number>(most + 1).fill(0);
    for (const slot of slots) sharing[shared[slot]!]!++;
    let cut = most;
    let above = 0;
    for (; cut > 0 && above + sharing[cut]! < limit; cut--) above += sharing[cut]!;
    let room = limit - above;
    slots = slots.filter((slot) => shared[slot]! > cut || (shared[slot] === cut && room-- > 0));
  }
  return slots.sort((a, b) => shared[b]! - shared[a]!);
}
