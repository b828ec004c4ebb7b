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

/**
 * The most reports a lookup reads of one bucket, newest first. A crowded bucket is a common word's: read whole it would
 * cost the most and say the least, but a repost usually follows its original within hours, so the newest reports of
 * the bucket are the ones worth comparing (passing over crowded buckets entirely lost most reposts in a busy store).
 */
const READ_PER_BUCKET = 64;

export class BandIndex {
  private readonly buckets = new Map<number, IndexedReport[]>();

  add(report: IndexedReport, bands: number[]): void {
    for (const band of bands) {
      const bucket = this.buckets.get(band);
      if (bucket) bucket.push(report);
      else this.buckets.set(band, [report]);
    }
  }

  /**
   * Reports from other sources published within `windowMs` of `publishedAt` that share at least one band, each with
   * the number of bands it shares (MinHash's estimate of how alike the two are). Of a crowded bucket only the newest
   * READ_PER_BUCKET reports are read.
   */
  matches(bands: number[], sourceId: string, publishedAt: number, windowMs: number): Map<IndexedReport, number> {
    const shared = new Map<IndexedReport, number>();
    for (const band of bands) {
      const bucket = this.buckets.get(band);
      if (!bucket) continue;
      for (let i = bucket.length - 1; i >= Math.max(0, bucket.length - READ_PER_BUCKET); i--) {
        const report = bucket[i]!;
        if (report.sourceId === sourceId || Math.abs(report.publishedAt - publishedAt) > windowMs) continue;
        shared.set(report, (shared.get(report) ?? 0) + 1);
      }
    }
    return shared;
  }

  /** Forgets the reports published before `cutoff`. */
  trim(cutoff: number): void {
    for (const [band, bucket] of this.buckets) {
      const kept = bucket.filter((report) => report.publishedAt >= cutoff);
      if (kept.length === 0) this.buckets.delete(band);
      else if (kept.length < bucket.length) this.buckets.set(band, kept);
    }
  }
}
