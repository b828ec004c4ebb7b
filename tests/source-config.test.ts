import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.ts';

const problems = (yaml: string) => {
  try {
    parseConfig(yaml, 'newsloom.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('the config was accepted');
};

describe('config of html, json and full-text sources', () => {
  it('reads selectors with attributes, defaults for title and link, and the time zone', () => {
    const config = parseConfig(
      `sources:
  - id: site
    url: https://site.example/news/
    kind: html
    timezone: Europe/Moscow
    html:
      item: .news-item
      date: time@datetime
      image: { selector: img, attr: data-src }
      summary: "@title"
    full_text: { selector: .article-body, remove: [.share, script] }
`,
      'c.yaml',
      {},
    );
    expect(config.sources[0]).toMatchObject({
      timezone: 'Europe/Moscow',
      html: {
        item: '.news-item',
        title: { selector: 'a' },
        link: { selector: 'a', attr: 'href' },
        date: { selector: 'time', attr: 'datetime' },
        image: { selector: 'img', attr: 'data-src' },
        summary: { selector: '', attr: 'title' },
      },
      full_text: { selector: '.article-body', remove: ['.share', 'script'] },
    });
    expect(parseConfig('sources:\n  - id: a\n    url: https://a.example/\n', 'c.yaml', {}).sources[0]!.timezone).toBe('UTC');
  });

  it('needs the item selector of an html source and the list path and fields of a json source', () => {
    expect(problems('sources:\n  - id: a\n    url: https://a.example/\n    kind: html\n')).toEqual([
      'newsloom.yaml:2:5: sources[0].html: a source of kind html needs "html:" (at least the item selector)',
    ]);
    expect(problems('sources:\n  - id: a\n    url: https://a.example/\n    kind: html\n    html:\n      title: h3\n')).toEqual([
      'newsloom.yaml:6:7: sources[0].html.item: needs the CSS selector of one item on the list page (e.g. ".news-list .news-item")',
    ]);
    expect(problems('sources:\n  - id: a\n    url: https://a.example/\n    kind: json\n    json:\n      fields: { title: title, link: url }\n')[0]).toMatch(
      /^newsloom\.yaml:6:7: sources\[0\]\.json\.items: the path to the list of items/,
    );
    expect(problems('sources:\n  - id: a\n    url: https://a.example/\n    kind: json\n    json:\n      items: results\n      fields: { title: title }\n')).toEqual([
      'newsloom.yaml:7:15: sources[0].json.fields.link: Invalid input: expected string, received undefined',
    ]);
  });

  it('names a bad selector, time zone, or a key that does not fit the kind', () => {
    expect(
      problems(`sources:
  - id: a
    url: https://a.example/
    kind: html
    timezone: Moscow
    html:
      item: "div["
      link: "a[href@href"
    json: { items: results, fields: { title: t, link: l } }
    full_text: { selector: "::before" }
`),
    ).toEqual([
      'newsloom.yaml:5:15: sources[0].timezone: "Moscow" is not an IANA time zone (e.g. UTC, Europe/Moscow)',
      'newsloom.yaml:7:13: sources[0].html.item: "div[" is not a CSS selector: Expected name, found ',
      'newsloom.yaml:8:13: sources[0].html.link: "a[href" is not a CSS selector: Attribute selector didn\'t terminate',
      'newsloom.yaml:10:28: sources[0].full_text.selector: "::before" is not a CSS selector: Pseudo-elements are not supported by css-select',
      'newsloom.yaml:9:11: sources[0].json: "json:" is only for sources of kind json (this one is html)',
    ]);
  });

  it('needs the next-page path to read more than one page, and one source of article bodies', () => {
    expect(
      problems(`sources:
  - id: a
    url: https://a.example/
    kind: json
    json:
      items: results
      pages: 3
      fields: { title: title, link: url }
      detail: { url: "https://a.example/{id}", content: body }
    full_text: { selector: article }
`),
    ).toEqual([
      'newsloom.yaml:6:7: sources[0].json.next: reading more than one page needs the path to the next page\'s URL (e.g. "next")',
      'newsloom.yaml:10:16: sources[0].full_text: the body comes either from json.detail or from full_text, not both',
    ]);
  });

  it('ships the GSV source enabled, on its JSON API with article bodies from the detail endpoint', () => {
    const config = parseConfig(readFileSync(new URL('../config/newsloom.yaml', import.meta.url), 'utf8'), 'newsloom.yaml', {});
    expect(config.sources.find((s) => s.id === 'gsv-en')).toMatchObject({
      enabled: true,
      kind: 'json',
      url: 'https://api.rusislworld.ru/articles/?lang=en&page=1',
      json: { items: 'results', fields: { link: 'https://rusislworld.ru/articles/{slug}' }, detail: { url: 'https://api.rusislworld.ru/articles/{slug}/', content: 'description' } },
    });
  });
});
