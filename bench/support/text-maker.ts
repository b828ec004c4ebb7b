// Deterministic news-like text for the dedup benchmarks (bench/dedup.ts, bench/band-index.ts).

/** Deterministic news-like text: words from a Zipf-distributed vocabulary, a topic name now and then. */
export class TextMaker {
  private state: number;
  private readonly vocabulary: string[];

  /** The vocabulary is drawn from `seed`; the words after that from `stream`. */
  constructor(seed: number, stream: number) {
    this.state = seed;
    const syllables = ['ka', 'lo', 'mu', 'te', 'sar', 'vin', 'dor', 'pel', 'ri', 'ston', 'ba', 'ne', 'qu', 'zo', 'fi', 'lar', 'gen', 'tis', 'mar', 'cu'];
    this.vocabulary = Array.from({ length: 30_000 }, () =>
      Array.from({ length: 2 + Math.floor(this.random() * 3) }, () => syllables[Math.floor(this.random() * syllables.length)]).join(''),
    );
    this.vocabulary.splice(50, 0, 'Kazakhstan', 'president', 'government', 'minister', 'talks', 'security');
    this.state = stream;
  }

  /** mulberry32 */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  words(count: number): string[] {
    // random()^2.2 favours the head of the vocabulary, roughly like word frequencies in news text.
    return Array.from({ length: count }, () => this.vocabulary[Math.floor(this.vocabulary.length * this.random() ** 2.2)]!);
  }

  /** A light rewording: about one word in six replaced, and two sentences' order swapped. */
  reword(words: string[]): string[] {
    const out = words.map((word) => (this.random() < 1 / 6 ? this.words(1)[0]! : word));
    return [...out.slice(0, 8), ...out.slice(30), ...out.slice(8, 30)];
  }
}
