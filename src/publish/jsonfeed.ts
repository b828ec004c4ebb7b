// JSON Feed 1.1 (https://jsonfeed.org/version/1.1). Where the origin and the other reports of a story
// have no standard field, they go in a "_newsloom" extension object, as the spec allows.
import { stripIllegalXmlChars } from '../text/xml.ts';
import { feedUrl, rfc3339, type EntryDocument, type FeedDocument } from './document.ts';

/** The topics' titles and the source's own categories, once each. */
function tagsOf(entry: EntryDocument): string[] | undefined {
  const tags = [...new Set([...entry.categories.map((c) => c.label), ...entry.tags])];
  return tags.length ? tags : undefined;
}

export function renderJsonFeed(doc: FeedDocument): string {
  const { address } = doc;
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: doc.title,
    home_page_url: feedUrl(address, 'html'),
    feed_url: feedUrl(address, 'json', doc.cursor),
    description: doc.description,
    next_url: doc.nextCursor ? feedUrl(address, 'json', doc.nextCursor) : undefined,
    items: doc.entries.map((entry) => ({
      id: entry.id,
      url: entry.url ?? undefined,
      title: entry.title,
      content_html: entry.contentHtml || undefined,
      // JSON Feed requires content_html or content_text on every item.
      content_text: entry.contentHtml ? undefined : entry.summaryText || entry.title,
      summary: entry.summaryText || undefined,
      date_published: rfc3339(entry.published),
      date_modified: rfc3339(entry.updated),
      authors: [{ name: entry.author }],
      image: entry.image ?? undefined,
      attachments: entry.enclosures.length
        ? entry.enclosures.map((e) => ({ url: e.url, mime_type: e.type ?? 'application/octet-stream', size_in_bytes: e.length ?? undefined }))
        : undefined,
      tags: tagsOf(entry),
      language: entry.language ?? undefined,
      _newsloom: {
        source: { id: entry.source.id, title: entry.source.title, feed_url: entry.source.feedUrl, home_page_url: entry.source.siteUrl ?? undefined },
        topics: entry.categories.map((c) => c.term),
        related: entry.related.length ? entry.related.map((r) => ({ title: r.title, url: r.url, source: r.sourceTitle })) : undefined,
      },
    })),
  };
  // Control characters and lone surrogates are legal in JSON, but a reader that turns them into XML or HTML may choke.
  return `${JSON.stringify(feed, (_key, value: unknown) => (typeof value === 'string' ? stripIllegalXmlChars(value) : value), 2)}\n`;
}
