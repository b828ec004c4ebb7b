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
 * Reports live in slots: what a lookup reads of each (its date, its source, a tally) sits in typed arrays, and a bucket
 * is a list of slot numbers, so that scanning a bucket reads memory in order instead of chasing an object per report.
 */
export class BandIndex {
  private readonly buckets = new Map<number, number[]>();
  private reports: IndexedReport[] = [];
  private published = new Float64Array(1024);
  private source = new Int32Array(1024);
  /** A lookup's tally: `mark` says which lookup last counted the slot, `shared` how many of its bands it met. */
  private mark = new Int32Array(1024);
  private shared = new Uint16Array(1024);
  private readonly sources = new Map<string, number>();
  private lookups = 0;

  add(report: IndexedReport, bands: number[]): void {
    const slot = this.reports.length;
    if (slot === this.published.length) this.resize(slot * 2);
    this.reports.push(report);
    this.published[slot] = report.publishedAt;
    this.source[slot] = this.sourceNumber(report.sourceId);
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
    const own = this.sources.get(sourceId) ?? -1;
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
    return mostShared(touched, shared, bands.length, limit).map((slot) => ({ report: this.reports[slot]!, shared: shared[slot]! }));
  }

  /** Forgets the reports published before `cutoff`: the others move to the first slots, in order. */
  trim(cutoff: number): void {
    const moved = new Int32Array(this.reports.length).fill(-1);
    const kept: IndexedReport[] = [];
    this.reports.forEach((report, slot) => {
      if (report.publishedAt < cutoff) return;
      moved[slot] = kept.length;
      this.published[kept.length] = this.published[slot]!;
      this.source[kept.length] = this.source[slot]!;
      kept.push(report);
    });
    this.reports = kept;
    for (const [band, bucket] of this.buckets) {
      const slots = bucket.map((slot) => moved[slot]!).filter((slot) => slot >= 0);
      if (slots.length === 0) this.buckets.delete(band);
      else this.buckets.set(band, slots);
    }
    this.mark.fill(0);
    this.resize(Math.max(1024, kept.length * 2));
  }

  private sourceNumber(sourceId: string): number {
    let n = this.sources.get(sourceId);
    if (n === undefined) this.sources.set(sourceId, (n = this.sources.size));
    return n;
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint16Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old.subarray(0, Math.min(old.length, capacity)));
      return next;
    };
    this.published = grow(this.published, (n) => new Float64Array(n));
    this.source = grow(this.source, (n) => new Int32Array(n));
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
