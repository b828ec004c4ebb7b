// OPML 2.0 subscription lists: /feeds.opml (every output, to import into a feed reader in one go) and
// `newsloom export-opml` (the config's feed sources) share one writer.
import type { Config } from '../config/schema.ts';
import { feedUrl } from './document.ts';
import { allFeeds } from './feeds.ts';
import { xmlAttr, xmlText } from './xml.ts';

export interface Outline {
  title: string;
  xmlUrl: string;
  htmlUrl?: string | undefined;
  description?: string | undefined;
  /** The feed format, as OPML names it ("RSS", "ATOM"); left out when unknown. */
  version?: string | undefined;
}

export function opmlDocument(title: string, outlines: Outline[], dateCreated?: Date): string {
  const attr = (name: string, value: string | undefined) => (value === undefined ? '' : ` ${name}="${xmlAttr(value)}"`);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<opml version="2.0">',
    '  <head>',
    `    <title>${xmlText(title)}</title>`,
    ...(dateCreated ? [`    <dateCreated>${dateCreated.toUTCString()}</dateCreated>`] : []),
    '    <docs>http://opml.org/spec2.opml</docs>',
    '  </head>',
    '  <body>',
    ...outlines.map(
      (o) =>
        `    <outline type="rss"${attr('version', o.version)}${attr('text', o.title)}${attr('title', o.title)}${attr('description', o.description)}${attr('xmlUrl', o.xmlUrl)}${attr('htmlUrl', o.htmlUrl)}/>`,
    ),
    '  </body>',
    '</opml>',
    '',
  ].join('\n');
}

export function renderOpml(config: Config, baseUrl: string): string {
  const outlines = allFeeds(config)
    .filter((f) => f.kind === 'feeds')
    .map((f) => ({ title: f.title, description: f.description, version: 'ATOM', xmlUrl: feedUrl({ baseUrl, path: f.path, params: [] }, 'atom'), htmlUrl: `${baseUrl}/` }));
  return opmlDocument('newsloom feeds', outlines);
}
