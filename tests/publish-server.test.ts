import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchAtom } from './helpers/atom.ts';
import { request } from './helpers/http.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { startPublishing, type Publishing } from './helpers/publish.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

describe.each(ENGINES)('serving feeds (%s)', (engine) => {
  const use = useEngine(engine);
  let pub: Publishing;
  beforeEach(async () => {
    pub = await startPublishing(undefined, use.storage());
  });
  afterEach(() => pub.stop());

  const addMany = async (n: number, topics: string[] = []) => {
    for (let i = 0; i < n; i++) await pub.add({ sourceId: 'notes', title: `Item ${i}`, url: `https://notes.example/${i}` }, topics, START + i * 60_000);
  };

  describe('caching', () => {
    it('sends ETag, Last-Modified and Cache-Control from the config, and 304 for a matching conditional request', async () => {
      await addMany(3);
      const first = await request(`${pub.url}/feeds/everything.atom`);
      expect(first.status).toBe(200);
      expect(first.headers['cache-control']).toBe('public, max-age=120');
      expect(first.headers['last-modified']).toBe(new Date(START + 2 * 60_000).toUTCString());
      const etag = first.headers.etag!;
      expect(etag).toMatch(/^"[\w-]+"$/);

      const byEtag = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'if-none-match': etag } });
      expect(byEtag.status).toBe(304);
      expect(byEtag.body).toHaveLength(0);
      expect(byEtag.headers.etag).toBe(etag);
      const byDate = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'if-modified-since': first.headers['last-modified']! } });
      expect(byDate.status).toBe(304);
      const stale = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'if-none-match': '"something-else"' } });
      expect(stale.status).toBe(200);
      expect(stale.body.equals(first.body)).toBe(true);
    });

    it('changes the ETag when a new item arrives, and keeps it for feeds the item does not appear in', async () => {
      await addMany(2, ['csto']);
      const everything = (await request(`${pub.url}/feeds/everything.atom`)).headers.etag;
      const kz = (await request(`${pub.url}/feeds/kz.atom`)).headers.etag;
      await pub.add({ sourceId: 'tass-ru', title: 'Новость о Казахстане' }, ['kazakhstan'], START + DAY);
      const everythingAfter = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'if-none-match': everything! } });
      expect(everythingAfter.status).toBe(200);
      expect(everythingAfter.body.toString()).toContain('Новость о Казахстане');
      const kzAfter = await request(`${pub.url}/feeds/kz.atom`);
      expect(kzAfter.headers.etag).not.toBe(kz);

      await pub.add({ sourceId: 'notes', title: 'Not about Kazakhstan' }, ['csto'], START + 2 * DAY);
      expect((await request(`${pub.url}/feeds/kz.atom`, { headers: { 'if-none-match': kzAfter.headers.etag! } })).status).toBe(304);
    });

    it('compresses with brotli or gzip when asked, with an ETag per encoding that still validates', async () => {
      await addMany(20);
      const plain = await request(`${pub.url}/feeds/everything.atom`);
      const br = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers.vary).toBe('Accept, Accept-Encoding');
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      expect(br.body.length).toBeLessThan(plain.body.length / 2);
      const gzip = await request(`${pub.url}/feeds/everything.atom`, { headers: { 'accept-encoding': 'gzip;q=1, br;q=0' } });
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
      expect(new Set([plain.headers.etag, br.headers.etag, gzip.headers.etag]).size).toBe(3);
      expect((await request(`${pub.url}/feeds/everything.atom`, { headers: { 'if-none-match': br.headers.etag! } })).status).toBe(304);
      expect((await request(`${pub.url}/feeds/everything.atom`, { headers: { 'accept-encoding': 'identity' } })).headers['content-encoding']).toBeUndefined();
    });

    it('labels a feed as XML for a browser, so that its stylesheet renders it, and as itself for readers', async () => {
      await addMany(1);
      const reader = await request(`${pub.url}/feeds/everything.atom`, { headers: { accept: 'application/atom+xml, application/xml;q=0.9, */*;q=0.8' } });
      const browser = await request(`${pub.url}/feeds/everything.atom`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
      expect(reader.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
      expect(browser.headers['content-type']).toBe('application/xml; charset=utf-8');
      expect(browser.body.equals(reader.body)).toBe(true);
      expect(browser.headers.vary).toBe('Accept, Accept-Encoding');
      expect(browser.body.toString()).toContain('<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>');
      const stylesheet = await request(`${pub.url}/feed.xsl`);
      expect(stylesheet.headers['content-type']).toBe('text/xsl; charset=utf-8');
      expect(stylesheet.body.toString()).toContain('<xsl:template match="atom:feed">');
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      await addMany(3);
      const get = await request(`${pub.url}/feeds/everything.rss`);
      const head = await request(`${pub.url}/feeds/everything.rss`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toHaveLength(0);
      expect(head.headers['content-length']).toBe(String(get.body.length));
      expect(head.headers.etag).toBe(get.headers.etag);
      expect(head.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    });
  });

  describe('paging', () => {
    it('walks a feed page by page through "next" links, every entry exactly once', async () => {
      // Items sharing a date must still page without loss or repeats.
      for (let i = 0; i < 23; i++) await pub.add({ sourceId: 'notes', title: `Item ${i}` }, [], START + Math.floor(i / 4) * 1000);
      const seen: string[] = [];
      let url: string | undefined = `${pub.url}/feeds/everything.atom?limit=5`;
      let pages = 0;
      while (url) {
        const page = await fetchAtom(url);
        seen.push(...page.entries.map((e) => e.title));
        url = /<link rel="next" type="application\/atom\+xml" href="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
        if (pages > 0) expect(page.body).toContain(`<link rel="first" type="application/atom+xml" href="${pub.url}/feeds/everything.atom?limit=5"/>`);
        pages++;
      }
      expect(pages).toBe(5);
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
      expect(seen[0]).toBe('Item 22');
    });

    it('pages a feed of several topics in date order, an item in two topics once', async () => {
      for (let i = 0; i < 12; i++) await pub.add({ sourceId: 'notes', title: `Item ${i}` }, i % 3 === 0 ? ['kazakhstan', 'csto'] : [i % 2 ? 'kazakhstan' : 'csto'], START + i * 1000);
      const seen: string[] = [];
      let url: string | undefined = `${pub.url}/search.atom?topic=kazakhstan,csto&limit=4`;
      while (url) {
        const page = await fetchAtom(url);
        seen.push(...page.entries.map((e) => e.title));
        url = /<link rel="next" type="application\/atom\+xml" href="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
      }
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `Item ${11 - i}`));
    });

    it('defaults to 50 entries and caps limit at 500', async () => {
      await addMany(60);
      expect((await fetchAtom(`${pub.url}/topics/kazakhstan.atom`)).entries).toHaveLength(0);
      expect((await fetchAtom(`${pub.url}/sources/notes.atom`)).entries).toHaveLength(50);
      const capped = await fetchAtom(`${pub.url}/sources/notes.atom?limit=100000`);
      expect(capped.entries).toHaveLength(60);
      expect(capped.body).toContain('limit=500');
      const json = JSON.parse(await (await fetch(`${pub.url}/sources/notes.json?limit=7`)).text()) as { items: unknown[]; next_url: string };
      expect(json.items).toHaveLength(7);
      expect(json.next_url).toMatch(/\/sources\/notes\.json\?limit=7&cursor=/);
    });
  });

  describe('search', () => {
    beforeEach(async () => {
      await pub.add({ sourceId: 'tass-ru', title: 'Токаев провёл встречу в Астане', contentText: 'Президент Казахстана встретился с делегацией' }, ['kazakhstan'], START);
      await pub.add({ sourceId: 'tass-ru', title: 'Ёлка в Москве', summaryText: 'Главная ёлка страны' }, [], START + DAY);
      await pub.add({ sourceId: 'notes', title: 'Astana talks: "peace" OR war', contentText: 'NEAR(a b) column:title * ^start' }, ['csto'], START + 2 * DAY);
    });
    // The daemon indexes on a worker thread: a search sees what it has indexed, so wait for it to catch up first.
    const search = async (query: string) => {
      await pub.daemon.context.store.search.settled();
      return (await fetchAtom(`${pub.url}/search.atom?${query}`)).entries.map((e) => e.title);
    };

    it('finds words in titles and text in any of their forms, with ё and е alike, phrases exactly and word* prefixes', async () => {
      expect(await search('q=Токаев')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search('q=делегация')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search('q=елка')).toEqual(['Ёлка в Москве']);
      expect(await search('q=провел')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search('q=Казахстан')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search('q=Астана')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search('q=Казахст*')).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search(`q=${encodeURIComponent('"встречу в Астане"')}`)).toEqual(['Токаев провёл встречу в Астане']);
      expect(await search(`q=${encodeURIComponent('"встреча в Астана"')}`)).toEqual([]);
      expect(await search(`q=${encodeURIComponent('"в встречу Астане"')}`)).toEqual([]);
    });

    it('reads OR, NOT and -word as operators, and any other FTS syntax as words', async () => {
      expect(await search(`sort=date&q=${encodeURIComponent('peace OR Москве')}`)).toEqual(['Astana talks: "peace" OR war', 'Ёлка в Москве']);
      expect(await search(`q=${encodeURIComponent('Астана -Токаев')}`)).toEqual([]);
      expect(await search(`q=${encodeURIComponent('astana NOT war')}`)).toEqual([]);
      expect(await search(`q=${encodeURIComponent('astana NOT peacekeepers')}`)).toEqual(['Astana talks: "peace" OR war']);
      expect(await search(`q=${encodeURIComponent('NEAR(a b)')}`)).toEqual(['Astana talks: "peace" OR war']);
      expect(await search(`q=${encodeURIComponent('title:Токаев')}`)).toEqual([]);
      expect(await search(`q=${encodeURIComponent('column:title')}`)).toEqual(['Astana talks: "peace" OR war']);
      expect(await search(`q=${encodeURIComponent('^start')}`)).toEqual(['Astana talks: "peace" OR war']);
    });

    it('ranks by relevance, or newest first with sort=date, and pages either way', async () => {
      await pub.add({ sourceId: 'notes', title: 'Weather', contentText: 'Snow is expected in Astana tomorrow' }, [], START + 3 * DAY);
      expect(await search('q=astana')).toEqual(['Astana talks: "peace" OR war', 'Weather']);
      expect(await search('q=astana&sort=date')).toEqual(['Weather', 'Astana talks: "peace" OR war']);
      const seen: string[] = [];
      let url: string | undefined = `${pub.url}/search.atom?q=astana&limit=1`;
      while (url) {
        const page = await fetchAtom(url);
        seen.push(...page.entries.map((e) => e.title));
        url = /<link rel="next" type="application\/atom\+xml" href="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
      }
      expect(seen).toEqual(['Astana talks: "peace" OR war', 'Weather']);
    });
  });

  describe('bad requests', () => {
    const status = async (path: string) => (await request(`${pub.url}${path}`)).status;
    const message = async (path: string) => (await request(`${pub.url}${path}`)).body.toString();

    it('answers invalid parameters with 400 and a message, unknown feeds with 404', async () => {
      expect(await status('/feeds/everything.atom?limit=0')).toBe(400);
      expect(await message('/feeds/everything.atom?limit=ten')).toBe('limit must be a whole number from 1 to 500, not "ten"\n');
      expect(await message('/feeds/everything.atom?limit=5&limit=6')).toBe('limit is given 2 times; give it once\n');
      expect(await message('/feeds/everything.atom?cursor=zzz')).toMatch(/^cursor "zzz" is not one this server gave/);
      expect(await message('/search.atom?topic=nope')).toBe('unknown topic "nope" (known: kazakhstan, csto)\n');
      expect(await message('/search.atom?since=yesterday')).toMatch(/^since must be a date/);
      expect(await message('/search.atom?q=%22%22')).toBe('q cannot be read: the quotes "" hold no word\n');
      expect(await message(`/search.atom?q=${'a'.repeat(300)}`)).toBe('q cannot be read: the search is longer than 256 characters\n');
      expect(await message('/search.atom?q=%22Astana%20talks')).toBe('q cannot be read: the quote in "Astana talks is not closed\n');
      expect(await message('/search.atom?q=OR')).toMatch(/^q cannot be read: OR needs a word or a "phrase" on each side/);
      expect(await message('/search.atom?q=astana%20NOT')).toMatch(/^q cannot be read: NOT needs a word or a "phrase" after it/);
      expect(await message('/search.atom?q=*')).toMatch(/^q cannot be read: \*: a \* goes right after the beginning of a word/);
      expect(await message('/search.atom?q=-astana')).toBe('q cannot be read: the search only excludes words; give a word to look for too\n');
      expect(await message('/search.atom?q=astana%07')).toBe('q cannot be read: the search contains a control character\n');
      expect(await message('/search.atom?q=astana&sort=newest')).toMatch(/^sort must be relevance \(best first, the default\) or date/);
      expect(await message('/search.atom?q=astana&cursor=1.2')).toMatch(/^cursor "1.2" is not one this server gave/);
      expect(await status('/feeds/everything.atom?utm_source=reader')).toBe(200);
      expect(await status('/feeds/nope.atom')).toBe(404);
      expect(await status('/feeds/everything.xml')).toBe(404);
      expect(await status('/topics/kazakhstan.atom/')).toBe(404);
      expect((await request(`${pub.url}/`, { headers: { host: 'bad host<>' } })).status).toBe(400);
    });

    it('never answers 500, whatever the query string', async () => {
      await addMany(3, ['kazakhstan']);
      // A fixed seed: the same strings every run, so a failure can be replayed.
      let seed = 7;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      const pieces = ['q', 'limit', 'cursor', 'topic', 'source', 'since', '=', '&', '%', '%00', '%FF', '%E2%80', '"', '*', '(', ')', 'NEAR', 'OR', ':', '^', '-', '+', ',',
        'Казахстан', '😀', '\u0301', '0', '-1', '500', '1e3', 'a.b', '9'.repeat(30), 'kazakhstan', '2026-13-45', '2026-01-01T00:00:00Z', ' ', '%20', '#', ';', '\\', "'"];
      const paths = ['/search.atom', '/search.rss', '/search.json', '/feeds/everything.atom', '/topics/kazakhstan.json', '/sources/notes.rss', '/'];
      const statuses = new Set<number>();
      for (let i = 0; i < 300; i++) {
        let query = '';
        const length = 1 + Math.floor(random() * 10);
        for (let j = 0; j < length; j++) query += pieces[Math.floor(random() * pieces.length)];
        const path = `${paths[i % paths.length]}?${query}`;
        const response = await request(pub.url, { path: encodeURI(decodeSafe(path)) });
        expect(response.status, path).toBeLessThan(500);
        statuses.add(response.status);
      }
      expect([...statuses].sort()).toEqual([200, 400]);
    });
  });
});

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
