// Renders a feed's entries as Atom 1.0 with the feed package.
import { Feed } from 'feed';
import type { Config } from '../config/schema.ts';
import { itemUid } from '../pipeline/fingerprint.ts';
import { escapeHtml } from '../pipeline/normalize.ts';
import { stripIllegalXmlChars } from '../sources/decode.ts';
import type { StoredItem } from '../store/items.ts';
import type { FeedSpec } from './feeds.ts';

export function renderAtom(config: Config, spec: FeedSpec, items: StoredItem[], baseUrl: string): string {
  const clean = stripIllegalXmlChars;
  const self = `${baseUrl}${spec.path}.atom`;
  const sourceTitles = new Map(config.sources.map((s) => [s.id, s.title ?? s.id]));
  const topicTitles = new Map(config.topics.map((t) => [t.id, t.title ?? t.id]));
  const updated = items.reduce((max, item) => Math.max(max, item.updatedAt), 0);
  const feed = new Feed({
    // Derived from the feed's path, so the id survives a change of host or base URL.
    id: itemUid('newsloom-feed', spec.path),
    title: clean(spec.title),
    description: spec.description && clean(spec.description),
    updated: new Date(updated),
    link: `${baseUrl}/`,
    feedLinks: { atom: self },
    generator: 'newsloom',
    author: { name: 'newsloom' },
  });
  for (const item of items) {
    const related = item.related.filter((r) => r.url);
    const alsoReported = related.length
      ? `<p>Also reported by: ${related.map((r) => `<a href="${escapeHtml(r.url!)}">${escapeHtml(sourceTitles.get(r.sourceId) ?? r.sourceId)}</a>`).join(', ')}</p>`
      : '';
    feed.addItem({
      // The feed package marks titles as HTML; ours are plain text.
      title: clean(escapeHtml(item.title)),
      id: item.uid,
      link: item.url ?? `${baseUrl}/`,
      date: new Date(item.updatedAt),
      published: new Date(item.publishedAt),
      description: clean(item.summaryHtml) || undefined,
      content: clean(item.contentHtml + alsoReported) || undefined,
      author: [{ name: clean(item.author ?? sourceTitles.get(item.sourceId) ?? item.sourceId) }],
      category: item.topics.map((topic) => ({ term: topic, name: clean(topicTitles.get(topic) ?? topic) })),
    });
  }
  return feed.atom1();
}
