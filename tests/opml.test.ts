import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { addFeedsToConfig, parseOpml, renderOpml, sourceId } from '../src/config/opml.ts';

const opml = readFileSync(new URL('fixtures/subscriptions.opml', import.meta.url), 'utf8');

const CONFIG = `# The maintainers' config.
server:
  port: 8080 # the port

sources:
  # TASS answers 403 to clients that do not look like a browser.
  - id: tass-en
    title: TASS (English)
    url: https://tass.com/rss/v2.xml
    every: 10m

topics:
  - { id: kazakhstan, any: [Kazakhstan] }
`;

describe('OPML', () => {
  it('reads every feed of an OPML file, in folders or not', () => {
    const feeds = parseOpml(opml);
    expect(feeds.map((f) => f.url)).toEqual([
      'https://tass.ru/rss/v2.xml',
      'https://www.inform.kz/rss/eng.xml',
      'https://astanatimes.com/feed/',
      'HTTPS://TASS.COM/rss/v2.xml#top',
      'https://www.inform.kz/rss/rus.xml',
      'https://www.akorda.kz/rss',
      'feed://podcast.example/rss',
    ]);
    expect(feeds[2]!.title).toBe('The Astana Times & Friends');
  });

  it('refuses what is not OPML', () => {
    expect(() => parseOpml('<rss version="2.0"><channel/></rss>')).toThrow(/not an OPML document/);
  });

  it('makes source ids from titles, Cyrillic included, else from the host', () => {
    expect(sourceId({ title: 'ТАСС — Новости', url: 'https://tass.ru/' })).toBe('tass-novosti');
    expect(sourceId({ title: 'Қазақстан жаңалықтары', url: 'https://x.kz/' })).toBe('qazaqstan-zhanalyqtary');
    expect(sourceId({ title: 'Le Monde diplomatique — Éditions', url: 'https://x.fr/' })).toBe('le-monde-diplomatique-editions');
    expect(sourceId({ title: '★★★', url: 'https://www.akorda.kz/rss' })).toBe('akorda-kz');
  });

  it('adds the new feeds to the config, keeping its comments and skipping feeds it has', () => {
    const result = addFeedsToConfig(CONFIG, parseOpml(opml), 'imported from subscriptions.opml');
    expect(result.added).toEqual([
      { id: 'tass-novosti', title: 'ТАСС — Новости', url: 'https://tass.ru/rss/v2.xml' },
      { id: 'kazinform', title: 'Kazinform', url: 'https://www.inform.kz/rss/eng.xml' },
      { id: 'the-astana-times-friends', title: 'The Astana Times & Friends', url: 'https://astanatimes.com/feed/' },
      { id: 'kazinform-2', title: 'Kazinform', url: 'https://www.inform.kz/rss/rus.xml' },
      { id: 'akorda-kz', title: 'akorda-kz', url: 'https://www.akorda.kz/rss' },
    ]);
    expect(result.skipped).toEqual([
      { url: 'HTTPS://TASS.COM/rss/v2.xml#top', reason: 'already a source' },
      { url: 'feed://podcast.example/rss', reason: 'not an http:// or https:// URL' },
    ]);
    // Everything of the file stays as it was, byte for byte; the new sources follow the last one.
    expect(result.text).toBe(
      CONFIG.replace(
        '    every: 10m\n',
        `    every: 10m
  # imported from subscriptions.opml
  - id: tass-novosti
    title: ТАСС — Новости
    url: https://tass.ru/rss/v2.xml
  - id: kazinform
    title: Kazinform
    url: https://www.inform.kz/rss/eng.xml
  - id: the-astana-times-friends
    title: The Astana Times & Friends
    url: https://astanatimes.com/feed/
  - id: kazinform-2
    title: Kazinform
    url: https://www.inform.kz/rss/rus.xml
  - id: akorda-kz
    title: akorda-kz
    url: https://www.akorda.kz/rss
`,
      ),
    );
    const config = parseConfig(result.text, 'newsloom.yaml', {});
    expect(config.sources.map((s) => s.id)).toEqual(['tass-en', 'tass-novosti', 'kazinform', 'the-astana-times-friends', 'kazinform-2', 'akorda-kz']);
    expect(config.sources[0]!.every).toEqual({ kind: 'interval', ms: 600_000 });

    const again = addFeedsToConfig(result.text, parseOpml(opml), 'again');
    expect(again.added).toEqual([]);
    expect(again.text).toBe(result.text);
  });

  it('appends after a last source written in flow style at the very end of the file', () => {
    const result = addFeedsToConfig('sources:\n- { id: a, url: "https://a.example/" }', [{ title: 'B', url: 'https://b.example/' }], 'imported');
    expect(result.text).toBe('sources:\n- { id: a, url: "https://a.example/" }\n# imported\n- id: b\n  title: B\n  url: https://b.example/\n');
  });

  it('starts a sources list in a config that has none', () => {
    const result = addFeedsToConfig('server:\n  port: 8080\n', [{ title: 'Kazinform', url: 'https://www.inform.kz/rss/eng.xml' }], 'imported');
    expect(parseConfig(result.text, 'c.yaml', {}).sources.map((s) => s.url)).toEqual(['https://www.inform.kz/rss/eng.xml']);
    const empty = addFeedsToConfig('sources: []\n', [{ title: 'Kazinform', url: 'https://www.inform.kz/rss/eng.xml' }], 'imported');
    expect(empty.text).toBe('sources:\n  # imported\n  - id: kazinform\n    title: Kazinform\n    url: https://www.inform.kz/rss/eng.xml\n');
  });

  it('writes the feed sources as OPML that reads back the same', () => {
    const config = parseConfig(
      `sources:
  - { id: a, title: "Q&A <daily> \\"news\\"", url: "https://a.example/feed?x=1&y=2" }
  - { id: gsv, url: "https://api.example/articles", kind: json, json: { items: results, fields: { title: title, link: url } } }
  - { id: b, url: "https://b.example/rss", enabled: false }
`,
      'c.yaml',
      {},
    );
    const text = renderOpml(config.sources, 'newsloom sources', new Date(Date.UTC(2025, 0, 2)));
    expect(text).toContain('<dateCreated>Thu, 02 Jan 2025 00:00:00 GMT</dateCreated>');
    expect(parseOpml(text)).toEqual([
      { title: 'Q&A <daily> "news"', url: 'https://a.example/feed?x=1&y=2' },
      { title: 'b', url: 'https://b.example/rss' },
    ]);
  });
});
