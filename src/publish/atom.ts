// Atom 1.0 (RFC 4287), written by hand so that every element is exactly what the RFC asks for:
// atom:source naming the original source, related links, labelled categories, RFC 5005 paging links.
import { feedUrl, MEDIA_TYPES, mediaFiles, rfc3339, stylesheetUrl, topicScheme, type EntryDocument, type FeedDocument } from './document.ts';
import { element, xmlAttr, xmlText } from './xml.ts';

export const GENERATOR = { name: 'newsloom', uri: 'https://github.com/newsloom/newsloom', version: '0.1.0' };

export function renderAtom(doc: FeedDocument): string {
  const { address } = doc;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<?xml-stylesheet type="text/xsl" href="${xmlAttr(stylesheetUrl(address.baseUrl))}"?>`,
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `<id>${doc.id}</id>`,
    element('title', doc.title, ' type="text"'),
    element('subtitle', doc.description, ' type="text"'),
    `<updated>${rfc3339(doc.updated)}</updated>`,
    link('self', MEDIA_TYPES.atom, feedUrl(address, 'atom', doc.cursor)),
    link('alternate', 'text/html', feedUrl(address, 'html')),
    doc.cursor ? link('first', MEDIA_TYPES.atom, feedUrl(address, 'atom')) : '',
    doc.nextCursor ? link('next', MEDIA_TYPES.atom, feedUrl(address, 'atom', doc.nextCursor)) : '',
    `<generator uri="${GENERATOR.uri}" version="${GENERATOR.version}">${GENERATOR.name}</generator>`,
    ...doc.entries.map((entry) => renderEntry(entry, address.baseUrl)),
    '</feed>',
    '',
  ];
  return lines.filter(Boolean).join('\n');
}

function link(rel: string, type: string | undefined, href: string, title?: string): string {
  return `<link rel="${rel}"${type ? ` type="${type}"` : ''} href="${xmlAttr(href)}"${title ? ` title="${xmlAttr(title)}"` : ''}/>`;
}

function renderEntry(entry: EntryDocument, baseUrl: string): string {
  const { source } = entry;
  // RFC 4287 4.1.2: an entry without an alternate link must have content.
  const content = entry.contentHtml || !entry.url ? `<content type="html">${xmlText(entry.contentHtml)}</content>` : '';
  return [
    `<entry${entry.language ? ` xml:lang="${xmlAttr(entry.language)}"` : ''}>`,
    `<id>${entry.id}</id>`,
    `<title type="text">${xmlText(entry.title)}</title>`,
    `<updated>${rfc3339(entry.updated)}</updated>`,
    `<published>${rfc3339(entry.published)}</published>`,
    `<author><name>${xmlText(entry.author)}</name></author>`,
    entry.url ? link('alternate', 'text/html', entry.url) : '',
    ...entry.related.map((r) => link('related', 'text/html', r.url, `${r.sourceTitle}: ${r.title}`)),
    ...mediaFiles(entry).map((m) => `<link rel="enclosure"${m.type ? ` type="${xmlAttr(m.type)}"` : ''}${m.length ? ` length="${m.length}"` : ''} href="${xmlAttr(m.url)}"/>`),
    ...entry.categories.map((c) => `<category term="${xmlAttr(c.term)}" scheme="${xmlAttr(topicScheme(baseUrl))}" label="${xmlAttr(c.label)}"/>`),
    ...entry.tags.map((tag) => `<category term="${xmlAttr(tag)}"/>`),
    '<source>',
    `<id>${sourceId(source.id)}</id>`,
    `<title type="text">${xmlText(source.title)}</title>`,
    link('self', undefined, source.feedUrl),
    source.siteUrl ? link('alternate', 'text/html', source.siteUrl) : '',
    '</source>',
    element('summary', entry.summaryText, ' type="text"'),
    content,
    '</entry>',
  ]
    .filter(Boolean)
    .join('\n');
}

/** A stable id for a source in atom:source: its newsloom id, as a tag of the project's namespace. */
export function sourceId(id: string): string {
  return `tag:newsloom,2026:source:${id}`;
}
