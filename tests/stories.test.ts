import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../src/config/schema.ts';
import { LEDE_WORDS, resemblance, sameStory, storyPrint, type StoryPrint } from '../src/text/stories.ts';

interface Report {
  source: string;
  title: string;
  text: string;
}
interface Cluster {
  cluster: string;
  stories: { id: string; reports: Report[] }[];
}
interface Pair {
  same: boolean;
  label: string;
  a: StoryPrint;
  b: StoryPrint;
}

const THRESHOLD = configSchema.parse({}).dedup.threshold;

/** Every pair of reports inside a cluster (one topic, same days): the same story, or a hard negative. */
function labelledPairs(): Pair[] {
  const clusters = parse(readFileSync(new URL('fixtures/story-pairs.yaml', import.meta.url), 'utf8')) as Cluster[];
  const pairs: Pair[] = [];
  for (const cluster of clusters) {
    const reports = cluster.stories.flatMap((story) =>
      story.reports.map((r) => ({ story: story.id, label: `${story.id}/${r.source}`, print: storyPrint({ title: r.title, summaryText: r.text, contentText: '' }) })),
    );
    reports.forEach((a, i) =>
      reports.slice(i + 1).forEach((b) => pairs.push({ same: a.story === b.story, label: `${a.label} ~ ${b.label}`, a: a.print, b: b.print })),
    );
  }
  return pairs;
}

describe('story dedup on the labelled pairs', () => {
  const pairs = labelledPairs();

  it('has at least 100 labelled pairs, with hard negatives', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(100);
    expect(pairs.filter((p) => p.same).length).toBeGreaterThanOrEqual(50);
    expect(pairs.filter((p) => !p.same).length).toBeGreaterThanOrEqual(50);
  });

  it(`tells one story from another with precision >= 0.97 and recall >= 0.85 at the default threshold ${THRESHOLD}`, () => {
    const decided = pairs.map((pair) => ({ ...pair, said: sameStory(pair.a, pair.b, THRESHOLD) }));
    const truePositives = decided.filter((p) => p.said && p.same).length;
    const falsePositives = decided.filter((p) => p.said && !p.same);
    const misses = decided.filter((p) => !p.said && p.same);
    const precision = truePositives / (truePositives + falsePositives.length);
    const recall = truePositives / (truePositives + misses.length);
    console.log(
      `story dedup: ${pairs.length} pairs (${truePositives + misses.length} same story), threshold ${THRESHOLD}: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`,
    );
    expect(precision, `merged different stories: ${falsePositives.map((p) => p.label).join('; ')}`).toBeGreaterThanOrEqual(0.97);
    expect(recall, `missed: ${misses.map((p) => p.label).join('; ')}`).toBeGreaterThanOrEqual(0.85);
  });

  it('compares stems of content words, whatever their case, inflection, order or ё', () => {
    const a = storyPrint({ title: 'Миротворцы ОДКБ покинули Казахстан', summaryText: 'Вывод контингента завершён, сообщил Объединённый штаб.', contentText: '' });
    const b = storyPrint({ title: 'Объединенный штаб сообщил: вывод контингента миротворцев завершен', summaryText: 'ОДКБ покинула Казахстан.', contentText: '' });
    expect(resemblance(a.words, b.words)).toBe(1);
  });

  it('judges a long text by its title and lede, which still match the one-sentence feed version', () => {
    const lede = 'The CSTO will hold exercises of its peacekeeping forces in Kazakhstan in October, the Joint Staff said.';
    const short = storyPrint({ title: 'CSTO to hold peacekeeping drills in Kazakhstan', summaryText: lede, contentText: '' });
    const body = Array.from({ length: 400 }, (_, i) => `paragraph${i}`).join(' ');
    const long = storyPrint({ title: 'CSTO peacekeeping drills to be held in Kazakhstan', summaryText: '', contentText: `${lede} ${body}` });
    const titleWords = storyPrint({ title: 'CSTO peacekeeping drills to be held in Kazakhstan', summaryText: '', contentText: '' }).words.length;
    expect(long.words.length).toBe(titleWords + LEDE_WORDS);
    expect(sameStory(short, long, THRESHOLD)).toBe(true);
  });

  it('gives a word the same hash however the text is read and however many words came before', () => {
    const text = { title: 'Токаев провёл переговоры с Путиным в Астане', summaryText: 'Talks on energy and transit corridors.', contentText: '' };
    const before = storyPrint(text);
    // A text with İ (whose lowercase is longer) is folded word by word, not read by offset from a folded copy.
    const wordByWord = storyPrint({ ...text, contentText: 'İzmir' });
    expect(wordByWord.words.length).toBe(before.words.length + 1);
    expect([...before.words].every((hash) => wordByWord.words.includes(hash))).toBe(true);
    // 200,000 made-up words: more than the cache of word hashes keeps before it starts again.
    for (let i = 0; i < 2_000; i++) storyPrint({ title: Array.from({ length: 100 }, (_, k) => `w${i}x${k}`).join(' '), summaryText: '', contentText: '' });
    expect(storyPrint(text)).toEqual(before);
  });

  it('calls nothing the same story on too few shared words', () => {
    const a = storyPrint({ title: 'Tokayev meets Putin', summaryText: '', contentText: '' });
    const b = storyPrint({ title: 'Tokayev meets Putin in Moscow to discuss gas', summaryText: '', contentText: '' });
    expect(resemblance(a.words, b.words)).toBe(0);
  });
});
