// /feeds.opml: every output as an OPML 2.0 subscription list, to import into a feed reader in one go.
import type { Config } from '../config/schema.ts';
import { feedUrl } from './document.ts';
import { allFeeds } from './feeds.ts';
import { xmlAttr, xmlText } from './xml.ts';

export function renderOpml(config: Config, baseUrl: string): string {
  const outlines = allFeeds(config)
    .filter((f) => f.kind === 'feeds')
    .map((f) => {
      const description = f.description ? ` description="${xmlAttr(f.description)}"` : '';
      const xmlUrl = feedUrl({ baseUrl, path: f.path, params: [] }, 'atom');
      return `    <outline type="rss" version="ATOM" text="${xmlAttr(f.title)}" title="${xmlAttr(f.title)}"${description} xmlUrl="${xmlAttr(xmlUrl)}" htmlUrl="${xmlAttr(`${baseUrl}/`)}"/>`;
    });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<opml version="2.0">',
    '  <head>',
    `    <title>${xmlText('newsloom feeds')}</title>`,
    `    <docs>http://opml.org/spec2.opml</docs>`,
    '  </head>',
    '  <body>',
    ...outlines,
    '  </body>',
    '</opml>',
    '',
  ].join('\n');
}
