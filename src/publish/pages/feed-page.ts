// The HTML page of a feed (an output, a topic, a source) and of a search: the same entries as the feed's
// document, for a person reading in a browser, with a subscribe box, paging both ways and, for a search, the
// count of results with the query's words marked.
import { escapeHtml as e } from '../../text/html.ts';
import { feedUrl, type EntryDocument, type FeedDocument } from '../document.ts';
import { ENTRY_WORDS, entryLang } from '../language.ts';
import { MAX_BACK } from '../params.ts';
import { alternateLinks, CHROME_WORDS, page, plural, subscribeBox, timeElement, type Chrome } from './chrome.ts';
import { highlight, queryWords, type QueryWord } from './highlight.ts';

export interface FeedPageInput {
  chrome: Chrome;
  document: FeedDocument;
  /** The cursors of the pages before this one, oldest first (the first page has none). */
  back: string[];
  /** A search: whether anything was asked, its text, how many entries it finds in all, and an error that kept it from running. */
  search?: { asked: boolean; text: string | undefined; count: number; error?: string | undefined } | undefined;
}

/** The address of a page of a feed, at a cursor, remembering the pages before it. */
export function pageUrl(document: FeedDocument, cursor: string | undefined, back: string[]): string {
  const url = feedUrl(document.address, 'html', cursor);
  return back.length ? `${url}${url.includes('?') ? '&' : '?'}back=${back.join(',')}` : url;
}

export function renderFeedPage({ chrome, document, back, search }: FeedPageInput): string {
  const words = CHROME_WORDS[chrome.lang];
  const marked = search?.text ? queryWords(search.text) : [];
  const entries = document.entries.map((entry) => renderEntry(entry, chrome, marked));
  // A search page is titled in the reader's language; the feed's own title stays for feed readers.
  const title = search ? (search.text ? `${words.searchTitle}: ${search.text}` : words.searchTitle) : document.title;
  const parts = [`<h1 id="page-title">${e(title)}</h1>`, document.description ? `<p class="description">${e(document.description)}</p>` : ''];
  if (search) parts.push(searchSummary(chrome, search));
  else parts.push(subscribeBox(document.address, chrome.lang));
  if (!search || (search.asked && !search.error)) {
    if (entries.length) parts.push(`<div class="entries">\n${entries.join('\n')}\n</div>`);
    else if (!search) parts.push(`<p class="meta" id="no-entries">${words.noEntries}</p>`);
  }
  parts.push(pagingNav(chrome, document, back));
  if (search?.asked && !search.error) parts.push(subscribeBox(document.address, chrome.lang));
  return page({ ...chrome, query: search?.text }, title, alternateLinks(document.address, document.title), parts.filter(Boolean).join('\n'));
}

function searchSummary(chrome: Chrome, search: NonNullable<FeedPageInput['search']>): string {
  const words = CHROME_WORDS[chrome.lang];
  const hints = `<section class="box hints" aria-labelledby="hints-title">
<h2 id="hints-title">${words.hintsTitle}</h2>
<ul>${words.hints.map((h) => `<li>${h}</li>`).join('')}</ul>
</section>`;
  if (search.error) return `<p role="alert" id="search-error">${words.badQuery} ${e(search.error)}</p>\n${hints}`;
  if (!search.asked) return `<p>${words.searchAll}</p>\n${hints}`;
  if (search.count === 0) return `<p id="nothing-found">${e(words.nothingFound(search.text ?? ''))}</p>\n${hints}`;
  const count = plural(search.count, chrome.lang, words.results);
  return `<p class="count" id="result-count">${e(search.text === undefined ? count : words.resultsFor(count, search.text))}</p>`;
}

/** Newer and older pages: a cursor forward, and the remembered cursors back. */
function pagingNav(chrome: Chrome, document: FeedDocument, back: string[]): string {
  const words = CHROME_WORDS[chrome.lang];
  const links: string[] = [];
  if (document.cursor) {
    links.push(`<a rel="prev" href="${e(pageUrl(document, back.at(-1), back.slice(0, -1)))}">${words.newer}</a>`);
    if (back.length) links.push(`<a href="${e(pageUrl(document, undefined, []))}">${words.newest}</a>`);
  }
  if (document.nextCursor) {
    const remembered = document.cursor ? [...back, document.cursor].slice(-MAX_BACK) : [];
    links.push(`<a rel="next" href="${e(pageUrl(document, document.nextCursor, remembered))}">${words.older}</a>`);
  }
  return links.length ? `<nav class="pages" aria-label="${words.pages}">${links.join('\n')}</nav>` : '';
}

function renderEntry(entry: EntryDocument, chrome: Chrome, marked: QueryWord[]): string {
  const { baseUrl } = chrome;
  const own = ENTRY_WORDS[entryLang(entry.language, '')];
  const title = highlight(entry.title, marked);
  const source = `<a href="${e(`${baseUrl}/sources/${entry.source.id}.html`)}">${e(entry.source.title)}</a>`;
  // The author is the source's title when the item names none: printing both would say it twice.
  const author = entry.author !== entry.source.title ? ` · ${e(entry.author)}` : '';
  const related = entry.related.length
    ? `<div class="related"><p>${own.alsoReportedBy}:</p><ul>${entry.related
        .map((r) => `<li>${e(r.sourceTitle)}: <a href="${e(r.url)}">${e(r.title)}</a></li>`)
        .join('')}</ul></div>`
    : '';
  const topics = entry.categories.length
    ? `<p class="topics">${entry.categories.map((c) => `<a href="${e(`${baseUrl}/topics/${c.term}.html`)}">${e(c.label)}</a>`).join(' ')}</p>`
    : '';
  return `<article class="entry" lang="${e(entry.language)}">
<h2>${entry.url ? `<a href="${e(entry.url)}">${title}</a>` : title}</h2>
<p class="meta">${source}${author} · ${timeElement(entry.published, chrome.lang)}</p>
${entry.image ? `<img src="${e(entry.image)}" alt="" loading="lazy">` : ''}
${entry.excerpt ? `<p class="summary">${highlight(entry.excerpt, marked)}</p>` : ''}
${related}
${topics}
</article>`.replace(/\n{2,}/g, '\n');
}
