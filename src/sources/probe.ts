// What a source's selectors find, for `newsloom try-source`: one fetch of the list (and of the first
// item's article when the source asks for full text), read without judging, so a maintainer sees
// every item and every selector that found nothing.
import type { Config, SourceConfig } from '../config/schema.ts';
import { htmlToText } from '../text/html.ts';
import { articleSpec, fetchArticle } from './article.ts';
import { parseSourceDate } from './dates.ts';
import { describeMiss, isRequired } from './layout.ts';
import { pageFetcher } from './page.ts';
import { readItems } from './read.ts';

export interface ProbeRow {
  title: string;
  link: string;
  /** The date as read (ISO 8601, UTC), or what the page printed when it could not be read. */
  date: string;
}

export interface Probe {
  rows: ProbeRow[];
  /** What a maintainer should look at: selectors that found nothing, the article check, an error. */
  notes: string[];
  ok: boolean;
}

export async function probeSource(config: Config, source: SourceConfig, now = Date.now()): Promise<Probe> {
  const fetchPage = pageFetcher(config, source);
  let document;
  try {
    // json sources read one page here: the point is to see the fields, not to walk the API.
    const once = source.json ? { ...source, json: { ...source.json, pages: 1 } } : source;
    document = await readItems(once, await fetchPage(source.url, source.kind), fetchPage);
  } catch (err) {
    return { rows: [], notes: [(err as Error).message], ok: false };
  }
  const rows = document.items.map((item): ProbeRow => {
    const printed = item.published ?? item.updated;
    const ms = printed ? parseSourceDate(printed, { timeZone: source.timezone, now }) : null;
    return {
      title: htmlToText(item.title ?? '') || '(none)',
      link: item.url ?? '(none)',
      date: ms !== null ? new Date(ms).toISOString().replace('.000Z', 'Z') : printed ? `unreadable: "${printed}"` : '(none)',
    };
  });
  const notes = document.misses.map((miss) => describeMiss(miss, document.items.length));
  let ok = !document.misses.some(isRequired);
  const spec = articleSpec(source);
  const first = document.items[0];
  const articleUrl = first && (first.articleUrl ?? first.url);
  if (spec && articleUrl) {
    try {
      const article = await fetchArticle(spec, articleUrl, fetchPage);
      notes.push(`full text of the first item: ${htmlToText(article.html).length} characters of text from ${article.url}`);
    } catch (err) {
      notes.push(`full text of the first item (${articleUrl}): ${(err as Error).message}`);
      ok = false;
    }
  }
  if (document.items.length === 0) notes.push('no items');
  return { rows, notes, ok };
}
