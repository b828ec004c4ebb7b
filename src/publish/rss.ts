// RSS 2.0, for readers and podcast apps that know nothing else. Atom's richer parts map to their
// usual RSS homes: atom:link for self and paging, dc:creator for authors, <source> for the origin.
import { GENERATOR } from './atom.ts';
import { feedUrl, MEDIA_TYPES, mediaFiles, rfc822, stylesheetUrl, topicScheme, type EntryDocument, type FeedDocument } from './document.ts';
import { element, xmlAttr, xmlText } from './xml.ts';

export function renderRss(doc: FeedDocument, ttlMinutes: number): string {
  const { address } = doc;
  const atomLink = (rel: string, href: string) => `<atom:link rel="${rel}" type="${MEDIA_TYPES.rss}" href="${xmlAttr(href)}"/>`;
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<?xml-stylesheet type="text/xsl" href="${xmlAttr(stylesheetUrl(address.baseUrl))}"?>`,
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">',
    '<channel>',
    `<title>${xmlText(doc.title)}</title>`,
    `<link>${xmlText(feedUrl(address, 'html'))}</link>`,
    // RSS requires a description; the title is the best one a feed without its own has.
    `<description>${xmlText(doc.description || doc.title)}</description>`,
    atomLink('self', feedUrl(address, 'rss', doc.cursor)),
    doc.cursor ? atomLink('first', feedUrl(address, 'rss')) : '',
    doc.nextCursor ? atomLink('next', feedUrl(address, 'rss', doc.nextCursor)) : '',
    doc.entries.length ? `<lastBuildDate>${rfc822(doc.updated)}</lastBuildDate>` : '',
    `<generator>${GENERATOR.name} ${GENERATOR.version}</generator>`,
    '<docs>https://www.rssboard.org/rss-specification</docs>',
    `<ttl>${Math.max(1, ttlMinutes)}</ttl>`,
    ...doc.entries.map((entry) => renderItem(entry, address.baseUrl)),
    '</channel>',
    '</rss>',
    '',
  ]
    .filter(Boolean)
    .join('\n');
}

function renderItem(entry: EntryDocument, baseUrl: string): string {
  // RSS allows one <enclosure>, with a length and a type (0 and a generic type when the source gave none); Media RSS
  // carries the others.
  const [enclosure, ...more] = mediaFiles(entry);
  return [
    '<item>',
    `<title>${xmlText(entry.title)}</title>`,
    element('link', entry.url),
    `<guid isPermaLink="false">${entry.id}</guid>`,
    `<pubDate>${rfc822(entry.published)}</pubDate>`,
    `<dc:creator>${xmlText(entry.author)}</dc:creator>`,
    ...entry.categories.map((c) => `<category domain="${xmlAttr(topicScheme(baseUrl))}">${xmlText(c.label)}</category>`),
    ...entry.tags.map((tag) => `<category>${xmlText(tag)}</category>`),
    enclosure ? `<enclosure url="${xmlAttr(enclosure.url)}" length="${enclosure.length ?? 0}" type="${xmlAttr(enclosure.type ?? 'application/octet-stream')}"/>` : '',
    ...more.map((m) => `<media:content url="${xmlAttr(m.url)}"${m.type ? ` type="${xmlAttr(m.type)}"` : ''}${m.length ? ` fileSize="${m.length}"` : ''}/>`),
    element('description', entry.contentHtml || entry.summaryText),
    `<source url="${xmlAttr(entry.source.feedUrl)}">${xmlText(entry.source.title)}</source>`,
    '</item>',
  ]
    .filter(Boolean)
    .join('\n');
}
