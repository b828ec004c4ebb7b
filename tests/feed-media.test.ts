import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFeed } from '../src/pipeline/prepare.ts';
import { startPublishing, type Publishing } from './helpers/publish.ts';
import { attr, checkAtom, children, parseXml, text, type Node } from './helpers/rfc4287.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const MP3 = 'https://cdn.pod.example/ep1.mp3';
const COVER = 'https://cdn.pod.example/ep1.jpg';

interface JsonItem {
  title: string;
  image?: string;
  attachments?: { url: string; mime_type: string; size_in_bytes?: number }[];
  tags?: string[];
}

describe('images, enclosures and categories in the published feeds', () => {
  let pub: Publishing;
  const get = async (path: string) => (await fetch(`${pub.url}${path}`)).text();

  beforeAll(async () => {
    pub = await startPublishing();
    // The podcast fixture through the feed path, into the store, as a poll would leave it.
    const body = readFileSync(new URL('fixtures/feeds/media.xml', import.meta.url));
    const feed = await prepareFeed({ sourceId: 'notes', language: null, timeZone: 'UTC', body, contentType: 'application/rss+xml', url: 'https://pod.example/feed.xml', now: NOW, withRaw: false });
    for (const [i, item] of feed.items.entries()) await pub.add({ ...item, guid: item.guid ?? item.url, publishedAt: NOW - i * 60_000 }, [], NOW);
  });
  afterAll(async () => {
    await pub.stop();
  });

  it('lists a podcast episode and its cover as Atom enclosure links with length and type, and the source categories, in valid Atom', async () => {
    const atom = await get('/feeds/everything.atom');
    expect(checkAtom(atom)).toEqual([]);
    const entries = children(parseXml(atom).feed![0]!, 'entry');
    const episode = entries.find((e) => text(children(e, 'title')[0]!) === 'Episode 1')!;
    const enclosures = children(episode, 'link').filter((l) => attr(l, 'rel') === 'enclosure').map((l) => ({ href: attr(l, 'href'), type: attr(l, 'type'), length: attr(l, 'length') }));
    expect(enclosures).toEqual([
      { href: MP3, type: 'audio/mpeg', length: '12345678' },
      { href: COVER, type: 'image/jpeg', length: undefined },
    ]);
    const categories = children(episode, 'category').filter((c) => attr(c, 'scheme') === undefined).map((c) => attr(c, 'term'));
    expect(categories).toEqual(['Talk', 'News']);
  });

  it('gives RSS its one <enclosure> (the episode) and media:content for the rest, and the categories', async () => {
    const rss = await get('/feeds/everything.rss');
    const items = children(children(parseXml(rss).rss![0]!, 'channel')[0]!, 'item');
    const byTitle = (title: string): Node => items.find((i) => text(children(i, 'title')[0]!) === title)!;
    const episode = byTitle('Episode 1');
    expect(children(episode, 'enclosure').map((e) => [attr(e, 'url'), attr(e, 'length'), attr(e, 'type')])).toEqual([[MP3, '12345678', 'audio/mpeg']]);
    expect(children(episode, 'media:content').map((m) => [attr(m, 'url'), attr(m, 'type')])).toEqual([[COVER, 'image/jpeg']]);
    expect(children(episode, 'category').filter((c) => attr(c, 'domain') === undefined).map(text)).toEqual(['Talk', 'News']);
    expect(rss).toContain('xmlns:media="http://search.yahoo.com/mrss/"');
    // The gallery's picture is its enclosure (RSS requires a length: 2048 as given) and the video goes to Media RSS.
    const gallery = byTitle('A gallery');
    expect(children(gallery, 'enclosure').map((e) => [attr(e, 'url'), attr(e, 'length'), attr(e, 'type')])).toEqual([['https://cdn.pod.example/a.jpg', '2048', 'image/jpeg']]);
    expect(children(gallery, 'media:content').map((m) => attr(m, 'url'))).toEqual(['https://cdn.pod.example/b.mp4']);
  });

  it('gives JSON Feed the image, the attachments and the tags', async () => {
    const json = JSON.parse(await get('/feeds/everything.json')) as { items: JsonItem[] };
    const byTitle = (title: string) => json.items.find((i) => i.title === title)!;
    expect(byTitle('Episode 1')).toMatchObject({ image: COVER, attachments: [{ url: MP3, mime_type: 'audio/mpeg', size_in_bytes: 12_345_678 }], tags: ['Talk', 'News'] });
    expect(byTitle('A gallery').attachments!.map((a) => [a.url, a.mime_type])).toEqual([
      ['https://cdn.pod.example/a.jpg', 'image/jpeg'],
      ['https://cdn.pod.example/b.mp4', 'video/mp4'],
    ]);
    // A picture that is no enclosure (an HTML source's image, a thumbnail) is the item's image, and no attachment.
    expect(byTitle('Only a thumbnail')).toMatchObject({ image: 'https://pod.example/thumbs/t.png' });
    expect(byTitle('Only a thumbnail').attachments).toBeUndefined();
  });
});
