import { parseFeed } from '@rowanmanning/feed-parser';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { renderAtom } from '../src/publish/atom.ts';
import { buildDocument } from '../src/publish/document.ts';
import { renderJsonFeed } from '../src/publish/jsonfeed.ts';
import { renderRss } from '../src/publish/rss.ts';
import { stripIllegalXmlChars } from '../src/text/xml.ts';
import type { StoredItem } from '../src/store/store.ts';
import { request } from './helpers/http.ts';
import { CONFIG, startPublishing, type Publishing } from './helpers/publish.ts';
import { attr, checkAtom, children, parseXml, RFC3339, text, type Node } from './helpers/rfc4287.ts';

// Entries that have broken feed writers before: Russian text and emoji, markup in a plain-text
// title, "]]>", characters XML forbids, an entry with neither link nor content, a date before 1970.
const RUSSIAN = {
  sourceId: 'tass-ru',
  title: 'Токаев: «Казахстан» — ёлка 🎄 ]]> <b>не тег</b> & co',
  url: 'https://tass.ru/politika/1?a=1&b=2',
  contentHtml: '<p>Текст <b>жирный</b> &amp; «кавычки» ]]> конец 🇰🇿</p>',
  contentText: 'Текст жирный & «кавычки» ]]> конец 🇰🇿',
  summaryText: 'Кратко: ]]> 😀',
  summaryHtml: '<p>Кратко: ]]&gt; 😀</p>',
  author: 'Иван Петров',
  language: 'ru',
};
const CONTROL = {
  sourceId: 'notes',
  title: 'Bell\u0007 and\u0001 escape\u001B, \uFFFE tab\tend',
  url: 'https://notes.example/b',
  contentHtml: '<p>null\u0000 char \uFFFF</p>',
  contentText: 'null\u0000 char',
};
const BARE = { sourceId: 'notes', title: 'Только заголовок' };
const OLD = { sourceId: 'notes', title: 'Before the epoch', url: 'https://notes.example/old' };

const FEEDS = ['/feeds/everything', '/feeds/kz', '/topics/kazakhstan', '/sources/notes', '/search', '/search?q=Казахстан'];
const withFormat = (path: string, format: string) => path.replace(/(\?|$)/, `.${format}$1`);

describe('feed formats', () => {
  let pub: Publishing;
  const get = async (path: string) => (await fetch(`${pub.url}${path}`)).text();

  beforeAll(async () => {
    pub = await startPublishing();
    await pub.add(RUSSIAN, ['kazakhstan'], Date.UTC(2026, 0, 4));
    await pub.add(CONTROL, ['csto'], Date.UTC(2026, 0, 3));
    await pub.add(BARE, [], Date.UTC(2026, 0, 2));
    await pub.add(OLD, [], Date.UTC(1960, 0, 1));
  });
  afterAll(() => pub.stop());

  it('writes Atom that meets every rule of RFC 4287, for every kind of feed', async () => {
    for (const path of FEEDS) {
      const body = await get(withFormat(path, 'atom'));
      expect(checkAtom(body), path).toEqual([]);
    }
    const body = await get('/feeds/everything.atom');
    expect(children(parseXml(body).feed![0]!, 'entry')).toHaveLength(4);
  });

  it('catches a broken Atom document (the checker itself works)', async () => {
    const body = await get('/feeds/everything.atom');
    expect(checkAtom(body.replace(/<updated>[^<]*<\/updated>/, '<updated>2026-01-04 10:00</updated>'))).toContain('feed atom:updated: "2026-01-04 10:00" is not an RFC 3339 date-time');
    expect(checkAtom(body.replace(/<author><name>[^<]*<\/name><\/author>/, ''))).toEqual(['entry 1: has no atom:author, and neither its atom:source nor the feed has one']);
    expect(checkAtom(body.replace('<id>urn:uuid:', '<id>urn uuid:'))[0]).toMatch(/is not an absolute IRI/);
    expect(checkAtom(body.replace('ёлка', 'ёлка\u0001'))).toContain('document: contains a character XML 1.0 forbids');
  });

  it('gives every entry its id, title, dates, author, links, labelled categories and atom:source', async () => {
    const feed = parseXml(await get('/feeds/everything.atom')).feed![0]!;
    const [russian, control, bare, old] = children(feed, 'entry');
    const one = (node: Node, name: string) => text(children(node, name)[0]!);
    expect(one(russian!, 'title')).toBe(RUSSIAN.title);
    expect(attr(children(russian!, 'title')[0]!, 'type')).toBe('text');
    expect(one(russian!, 'id')).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(one(russian!, 'published')).toBe('2026-01-04T00:00:00Z');
    expect(one(children(russian!, 'author')[0]!, 'name')).toBe('Иван Петров');
    expect(attr(russian!, 'xml:lang')).toBe('ru');
    expect(children(russian!, 'link').map((l) => [attr(l, 'rel'), attr(l, 'href')])).toEqual([['alternate', RUSSIAN.url]]);
    expect(children(russian!, 'category').map((c) => [attr(c, 'term'), attr(c, 'label')])).toEqual([['kazakhstan', 'Казахстан 🇰🇿']]);
    expect(attr(children(russian!, 'content')[0]!, 'type')).toBe('html');
    expect(one(russian!, 'content')).toBe(RUSSIAN.contentHtml);
    expect(one(russian!, 'summary')).toBe(RUSSIAN.summaryText);
    const source = children(russian!, 'source')[0]!;
    expect(one(source, 'title')).toBe('ТАСС');
    expect(children(source, 'link').map((l) => attr(l, 'href'))).toEqual(['http://127.0.0.1:9/tass-ru.xml']);

    expect(one(control!, 'title')).toBe(stripIllegalXmlChars(CONTROL.title));
    expect(one(control!, 'content')).toBe('<p>null char </p>');
    // No author of its own: the source's name (here its id, as the config gives no title).
    expect(one(children(control!, 'author')[0]!, 'name')).toBe('notes');
    expect(children(bare!, 'link')).toHaveLength(0);
    expect(children(bare!, 'content')).toHaveLength(1);
    expect(one(old!, 'published')).toBe('1970-01-01T00:00:00Z');
    expect(one(feed, 'updated')).toBe('2026-01-04T00:00:00Z');
  });

  it('reads back the same entries with two independent parsers', async () => {
    const atom = await get('/feeds/everything.atom');
    const fromRssParser = await new Parser<object, { id?: string }>({ customFields: { item: ['id'] } }).parseString(atom);
    const fromFeedParser = parseFeed(atom);
    const titles = [RUSSIAN.title, stripIllegalXmlChars(CONTROL.title), BARE.title, OLD.title];
    expect(fromRssParser.items.map((i) => i.title)).toEqual(titles);
    expect(fromFeedParser.items.map((i) => i.title)).toEqual(titles);
    expect(fromFeedParser.items.map((i) => i.id)).toEqual(fromRssParser.items.map((i) => i.id));
    expect(fromFeedParser.items[0]!.url).toBe(RUSSIAN.url);
    expect(fromRssParser.items[0]!.link).toBe(RUSSIAN.url);
    expect(fromFeedParser.items[0]!.content).toContain('<b>жирный</b>');
    expect(fromFeedParser.items[0]!.categories.map((c) => c.label)).toEqual(['Казахстан 🇰🇿']);
    expect(fromFeedParser.title).toBe('Всё & everything');
    expect(fromFeedParser.self).toBe(`${pub.url}/feeds/everything.atom`);

    const rss = await get('/feeds/everything.rss');
    const rssByRssParser = await new Parser().parseString(rss);
    const rssByFeedParser = parseFeed(rss);
    expect(rssByRssParser.items.map((i) => i.title)).toEqual(titles);
    expect(rssByFeedParser.items.map((i) => i.title)).toEqual(titles);
    expect(rssByRssParser.items.map((i) => i.guid)).toEqual(fromRssParser.items.map((i) => i.id));
    expect(rssByFeedParser.items[0]!.content ?? rssByFeedParser.items[0]!.description).toContain('<b>жирный</b>');
  });

  it('writes RSS 2.0 with every required channel and item element', async () => {
    for (const path of FEEDS) {
      const rss = await get(withFormat(path, 'rss'));
      expect(checkRss(rss), path).toEqual([]);
    }
    expect(checkRss((await get('/feeds/everything.rss')).replace(/<pubDate>[^<]*/, '<pubDate>2026-01-04'))).toEqual(['item 1: pubDate "2026-01-04" is not an RFC 822 date']);
  });

  it('writes JSON Feed 1.1 with every required field', async () => {
    for (const path of FEEDS) {
      const json = await get(withFormat(path, 'json'));
      expect(checkJsonFeed(json), path).toEqual([]);
    }
    const feed = JSON.parse(await get('/feeds/everything.json')) as { items: { title: string; id: string; content_html?: string; _newsloom: { source: { title: string } } }[] };
    expect(feed.items.map((i) => i.title)).toEqual([RUSSIAN.title, stripIllegalXmlChars(CONTROL.title), BARE.title, OLD.title]);
    expect(feed.items[0]!.content_html).toBe(RUSSIAN.contentHtml);
    expect(feed.items[0]!._newsloom.source.title).toBe('ТАСС');
  });

  it('shows the other reports of a story as related links, in every format', () => {
    const config = parseConfig(CONFIG, 'test.yaml', {});
    const item: StoredItem = {
      id: 1, uid: 'urn:uuid:00000000-0000-5000-8000-000000000001', sourceId: 'tass-ru', guid: 'g', url: 'https://tass.ru/1', canonicalUrl: null,
      title: 'Лидер \uD800 с одиноким суррогатом \u0002', summaryHtml: '', contentHtml: '<p>Текст</p>', summaryText: '', contentText: 'Текст', author: null, categories: [], image: null, enclosures: [],
      language: 'ru', publishedAt: Date.UTC(2026, 0, 1), updatedAt: Date.UTC(2026, 0, 2), firstSeenAt: 0, contentHash: 'h', topics: [],
      related: [{ sourceId: 'notes', title: 'Repost & more', url: 'https://notes.example/r?a=1&b=2' }, { sourceId: 'notes', title: 'No link', url: null }],
    };
    const sources = new Map([['tass-ru', { id: 'tass-ru', title: 'ТАСС', feedUrl: 'https://tass.ru/rss/v2.xml', siteUrl: 'https://tass.ru/' }]]);
    const input = { address: { baseUrl: 'https://news.example', path: '/feeds/everything', params: [] }, title: 'T', description: undefined, items: [item], cursor: undefined, nextCursor: 'abc.1', sources };
    const doc = buildDocument(config, input);
    const atom = renderAtom(doc);
    expect(checkAtom(atom)).toEqual([]);
    const entry = children(parseXml(atom).feed![0]!, 'entry')[0]!;
    expect(text(children(entry, 'title')[0]!)).toBe('Лидер  с одиноким суррогатом ');
    expect(children(entry, 'link').map((l) => [attr(l, 'rel'), attr(l, 'href'), attr(l, 'title')])).toEqual([
      ['alternate', 'https://tass.ru/1', undefined],
      ['related', 'https://notes.example/r?a=1&b=2', 'notes: Repost & more'],
    ]);
    expect(text(children(entry, 'author')[0]!.name![0] as Node)).toBe('ТАСС');
    // The words newsloom adds follow the entry's language.
    expect(text(children(entry, 'content')[0]!)).toContain('Также сообщают: <a href="https://notes.example/r?a=1&amp;b=2">notes</a>');
    const english = buildDocument(config, { ...input, items: [{ ...item, language: 'en' }] });
    expect(english.entries[0]!.contentHtml).toContain('<p>Also reported by: <a href="https://notes.example/r?a=1&amp;b=2">notes</a></p>');
    // Without a language of its own, an entry's letters decide.
    expect(buildDocument(config, { ...input, items: [{ ...item, language: null, title: 'Talks in Astana' }] }).entries[0]!.language).toBe('en');
    expect(buildDocument(config, { ...input, items: [{ ...item, language: null }] }).entries[0]!.language).toBe('ru');
    expect(children(children(entry, 'source')[0]!, 'link').map((l) => attr(l, 'href'))).toEqual(['https://tass.ru/rss/v2.xml', 'https://tass.ru/']);
    expect(atom).toContain('<link rel="next" type="application/atom+xml" href="https://news.example/feeds/everything.atom?cursor=abc.1"/>');
    expect(checkRss(renderRss(doc, 1))).toEqual([]);
    expect(renderRss(doc, 1)).toContain('<atom:link rel="next" type="application/rss+xml" href="https://news.example/feeds/everything.rss?cursor=abc.1"/>');
    const json = JSON.parse(renderJsonFeed(doc)) as { next_url: string; items: { _newsloom: { related: unknown[] } }[] };
    expect(json.next_url).toBe('https://news.example/feeds/everything.json?cursor=abc.1');
    expect(json.items[0]!._newsloom.related).toEqual([{ title: 'Repost & more', url: 'https://notes.example/r?a=1&b=2', source: 'notes' }]);
  });

  it('keeps feed and entry ids when the feed is reached under another host name', async () => {
    const ids = (xml: string) => [...xml.matchAll(/<id>([^<]+)<\/id>/g)].map((m) => m[1]);
    const viaIp = await get('/feeds/everything.atom');
    const viaName = (await request(`${pub.url}/feeds/everything.atom`, { headers: { host: 'news.example' } })).body.toString();
    expect(viaName).toContain('href="http://news.example/feeds/everything.atom"');
    expect(ids(viaName)).toEqual(ids(viaIp));
  });
});

// RSS 2.0 (rssboard.org/rss-specification): channel title, link, description; an item has a title or a
// description; dates are RFC 822; guid isPermaLink="false" for non-URL ids; category domain and source url are URLs.
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/;

function checkRss(xml: string): string[] {
  const problems: string[] = [];
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(xml) || xml.includes(']]>')) problems.push('document: has characters XML forbids');
  const rss = parseXml(xml).rss?.[0];
  if (!rss || attr(rss, 'version') !== '2.0') return ['document: root is not <rss version="2.0">'];
  const channel = children(rss, 'channel');
  if (channel.length !== 1) return ['rss: needs exactly one channel'];
  const c = channel[0]!;
  for (const name of ['title', 'link', 'description']) if (children(c, name).length !== 1 || !text(children(c, name)[0]!)) problems.push(`channel: needs one non-empty ${name}`);
  if (!children(c, 'atom:link').some((l) => attr(l, 'rel') === 'self')) problems.push('channel: no atom:link rel="self"');
  for (const name of ['lastBuildDate', 'pubDate']) for (const d of children(c, name)) if (!RFC822.test(text(d))) problems.push(`channel: ${name} is not an RFC 822 date`);
  children(c, 'item').forEach((item, index) => {
    const where = `item ${index + 1}`;
    if (!children(item, 'title').length && !children(item, 'description').length) problems.push(`${where}: needs a title or a description`);
    for (const d of children(item, 'pubDate')) if (!RFC822.test(text(d))) problems.push(`${where}: pubDate "${text(d)}" is not an RFC 822 date`);
    const guid = children(item, 'guid')[0];
    if (!guid || (attr(guid, 'isPermaLink') !== 'false' && !/^https?:/.test(text(guid)))) problems.push(`${where}: needs a guid (a URL, or isPermaLink="false")`);
    for (const link of children(item, 'link')) if (!/^https?:\/\//.test(text(link))) problems.push(`${where}: link is not an absolute URL`);
    for (const s of children(item, 'source')) if (!/^https?:\/\//.test(attr(s, 'url') ?? '')) problems.push(`${where}: source needs a url`);
  });
  return problems;
}

// JSON Feed 1.1 (jsonfeed.org/version/1.1): version and title required; items have a unique string id
// and content_html or content_text; dates are RFC 3339; URLs are absolute.
function checkJsonFeed(json: string): string[] {
  const problems: string[] = [];
  const feed = JSON.parse(json) as Record<string, unknown>;
  const url = (value: unknown) => typeof value === 'string' && /^https?:\/\//.test(value);
  if (feed.version !== 'https://jsonfeed.org/version/1.1') problems.push('feed: version is not 1.1');
  if (typeof feed.title !== 'string' || !feed.title) problems.push('feed: needs a title');
  if (!url(feed.feed_url) || !url(feed.home_page_url)) problems.push('feed: feed_url and home_page_url must be absolute URLs');
  if (!Array.isArray(feed.items)) return [...problems, 'feed: items must be an array'];
  const ids = new Set<string>();
  (feed.items as Record<string, unknown>[]).forEach((item, index) => {
    const where = `item ${index + 1}`;
    if (typeof item.id !== 'string' || !item.id || ids.has(item.id)) problems.push(`${where}: needs a unique string id`);
    ids.add(String(item.id));
    if (typeof item.content_html !== 'string' && typeof item.content_text !== 'string') problems.push(`${where}: needs content_html or content_text`);
    for (const name of ['date_published', 'date_modified']) if (item[name] !== undefined && !(typeof item[name] === 'string' && RFC3339.test(item[name]))) problems.push(`${where}: ${name} is not RFC 3339`);
    if (item.url !== undefined && !url(item.url)) problems.push(`${where}: url is not absolute`);
    const authors = item.authors as { name?: unknown }[] | undefined;
    if (authors && !authors.every((a) => typeof a.name === 'string' && a.name)) problems.push(`${where}: every author needs a name`);
  });
  return problems;
}

describe('text that XML can carry', () => {
  it('drops control characters and lone surrogates, and keeps everything else, pairs (emoji) included', () => {
    expect(stripIllegalXmlChars('a\u0000b\u0008c\u000Bd\u001Fe\uFFFEf\uFFFF')).toBe('abcdef');
    expect(stripIllegalXmlChars('tab\there\nnew\rline')).toBe('tab\there\nnew\rline');
    expect(stripIllegalXmlChars('flag 🇰🇿 and \uD83D\uDE00')).toBe('flag 🇰🇿 and \uD83D\uDE00');
    expect(stripIllegalXmlChars('lone \uD83D high, lone \uDE00 low, \uDE00\uD83D reversed')).toBe('lone  high, lone  low,  reversed');
    const plain = 'Переговоры в Астане — “quoted” & <tagged>';
    expect(stripIllegalXmlChars(plain)).toBe(plain);
  });
});
