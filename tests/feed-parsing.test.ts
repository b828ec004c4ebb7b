import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Item } from '../src/item.ts';
import { prepareFeed, type PreparedFeed } from '../src/pipeline/prepare.ts';
import { ParseError, parseFeed } from '../src/sources/feed.ts';

const NOW = Date.UTC(2026, 5, 1, 12);

/** A fixture through the feed path the daemon runs: decode, parse, normalize, sanitize. */
function read(name: string, url = `https://feeds.example/${name}`): Promise<PreparedFeed> {
  const body = readFileSync(new URL(`fixtures/feeds/${name}`, import.meta.url));
  return prepareFeed({ sourceId: 'test', language: null, timeZone: 'UTC', body, contentType: 'application/xml', url, now: NOW, withRaw: false });
}

const pick = (item: Item) => ({ title: item.title, url: item.url, guid: item.guid, summary: item.summaryHtml, content: item.contentHtml });

describe('reading feeds', () => {
  it('reads the fields that made the old parser throw: titles and links with attributes or markup, an empty enclosure', async () => {
    const feed = await read('crash-cases.xml');
    expect(feed.title).toBe('Crash cases');
    expect(feed.siteUrl).toBe('https://crash.example/');
    expect(feed.items.map((i) => i.title)).toEqual(['A title with an attribute', 'A title with markup inside', 'CDATA & an ampersand']);
    expect(feed.items[0]).toMatchObject({ url: 'https://crash.example/1', guid: 'crash-1' });
    // A guid that is a permalink stands in for the missing link; the empty enclosure is no enclosure.
    expect(feed.items[1]).toMatchObject({ url: 'https://crash.example/2', enclosures: [], publishedAt: Date.UTC(2026, 5, 1, 10) });
    expect(feed.items[2]).toMatchObject({ url: 'https://crash.example/3?a=1&b=2', author: 'The Editor' });
  });

  it('reads RSS without a version attribute, with HTML entities', async () => {
    const feed = await read('rss-without-version.xml');
    expect(feed.title).toBe('No version & no problem');
    expect(feed.items).toHaveLength(1);
    expect(feed.items[0]).toMatchObject({ title: 'An item of a version-less feed — with an HTML entity', summaryText: 'Read … on.', categories: ['World'] });
  });

  it('reads RSS 1.0 (RDF) with content:encoded and Dublin Core', async () => {
    const feed = await read('rdf.xml');
    expect(feed.title).toBe('An RSS 1.0 feed');
    expect(feed.items.map(pick)).toEqual([
      { title: 'First RDF item', url: 'https://rdf.example/1', guid: null, summary: '<p>The summary.</p>', content: '<p>The <em>full</em> body.</p>' },
      { title: 'Second RDF item', url: 'https://rdf.example/2', guid: null, summary: '', content: '' },
    ]);
    expect(feed.items[0]).toMatchObject({ author: 'Ann Author', categories: ['Science'], publishedAt: Date.UTC(2026, 4, 30, 5) });
  });

  it('reads Atom 0.3: escaped and base64 content, issued and modified dates, person constructs', async () => {
    const feed = await read('atom03.xml');
    expect(feed.siteUrl).toBe('https://atom03.example/');
    const [escaped, base64] = feed.items;
    expect(escaped).toMatchObject({
      title: 'Escaped content',
      url: 'https://atom03.example/1',
      guid: 'tag:atom03.example,2026:1',
      author: 'Old Timer',
      summaryHtml: '<p>Plain summary</p>',
      contentHtml: '<p>Escaped <b>HTML</b></p>',
      publishedAt: Date.UTC(2026, 4, 29, 9),
      updatedAt: Date.UTC(2026, 4, 30, 9, 30),
    });
    expect(base64!.contentHtml).toBe('<p>Base <i>64</i></p>');
  });

  it('reads bodies in xhtml:body, <body> and <fullitem>', async () => {
    const feed = await read('bodies.xml');
    expect(feed.items.map((i) => i.contentHtml)).toEqual([
      '<p>An <strong>XHTML</strong> body.</p>',
      '<p>A plain <em>body</em>.</p>',
      '<p>A <i>fullitem</i> body.</p>',
    ]);
  });

  it('resolves nested xml:base, decodes base64 Atom content and keeps a plain-text title with "<" as text', async () => {
    const feed = await read('atom-base.xml');
    expect(feed.title).toBe('Bases & texts');
    expect(feed.siteUrl).toBe('https://base.example/');
    const [blink, html] = feed.items;
    expect(blink).toMatchObject({
      title: 'History of the <blink> tag',
      url: 'https://base.example/feed/posts/1.html',
      contentHtml: '<p>See <a href="https://base.example/feed/posts/media/pic.html" rel="noopener noreferrer">the picture</a>.</p>',
      categories: ['history'],
    });
    expect(html).toMatchObject({ title: 'An HTML title', contentHtml: '<p>Base64 <b>Atom</b> content</p>' });
  });

  it('keeps escaped "<" as text in XHTML and HTML text constructs that hold no tag', async () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title>T</title>
      <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the &lt;blink&gt; tag</div></summary>
      <content type="html">AT&amp;amp;T &amp;lt; 5</content></entry></feed>`;
    const feed = await prepareFeed({ sourceId: 't', language: null, timeZone: 'UTC', body: Buffer.from(atom), contentType: null, url: 'https://x.example/', now: NOW, withRaw: false });
    expect(feed.items[0]).toMatchObject({ summaryText: 'History of the <blink> tag', contentText: 'AT&T < 5', contentHtml: '<p>AT&amp;T &lt; 5</p>' });
  });

  it('reads enclosures of any type with length and type, Media RSS groups and thumbnails, and itunes:image', async () => {
    const feed = await read('media.xml');
    const [episode, gallery, thumbnail] = feed.items;
    expect(episode).toMatchObject({
      image: 'https://cdn.pod.example/ep1.jpg',
      enclosures: [{ url: 'https://cdn.pod.example/ep1.mp3', type: 'audio/mpeg', length: 12_345_678 }],
      categories: ['Talk', 'News'],
    });
    expect(gallery).toMatchObject({
      image: 'https://cdn.pod.example/a.jpg',
      enclosures: [
        { url: 'https://cdn.pod.example/a.jpg', type: 'image/jpeg', length: 2048 },
        { url: 'https://cdn.pod.example/b.mp4', type: 'video/mp4', length: null },
      ],
    });
    expect(thumbnail).toMatchObject({ image: 'https://pod.example/thumbs/t.png', enclosures: [] });
  });

  it('gives a parse error that says what the document is instead, never another exception', async () => {
    const failure = (text: string) => prepareFeed({ sourceId: 't', language: null, timeZone: 'UTC', body: Buffer.from(text), contentType: null, url: 'https://x.example/', now: NOW, withRaw: false });
    await expect(failure('')).rejects.toThrow(new ParseError('the response is empty'));
    await expect(failure('{"items": []}')).rejects.toThrow(new ParseError('the response is JSON, not an RSS or Atom feed'));
    await expect(failure('<!DOCTYPE html><html><body>Hi</body></html>')).rejects.toThrow(new ParseError('the response is an HTML page, not a feed'));
    await expect(failure('<?xml version="1.0"?><opml version="2.0"><body/></opml>')).rejects.toThrow(new ParseError("not an RSS or Atom feed: the document's root element is <opml>"));
    await expect(failure('plain words')).rejects.toThrow(new ParseError('the response is not XML'));
  });

  it('keeps the whole items of a document cut short, and calls one with none no feed', () => {
    const cut = '<rss><channel><title>Cut</title><item><title>Whole</title></item><item><title>Hal';
    expect(parseFeed(cut).items.map((i) => i.title)).toEqual(['Whole']);
    expect(() => parseFeed('<rss><channel><item><title>broken')).toThrow(new ParseError('not a valid RSS or Atom feed: the document ends inside <title>, before its end tag'));
  });

  it('reads what a tolerant reader reads of broken XML: unclosed elements, a bare ampersand', () => {
    const feed = parseFeed('<rss><channel><title>AT&T news</title><item><title>Broken & <b>open</title><link>https://broken.example/1</link></item>');
    expect(feed.title).toBe('AT&T news');
    expect(feed.items).toEqual([expect.objectContaining({ title: 'Broken &amp; <b>open</b>', url: 'https://broken.example/1' })]);
  });
});
