// The HTML page at "/": each output with its description, its page, subscribe links, entry count and latest
// entries; the topic and source pages and feeds; a search box; each source's health; autodiscovery links.
import type { Config } from '../../config/schema.ts';
import { escapeHtml as e } from '../../text/html.ts';
import type { SourceHealth, StoredItem } from '../../store/store.ts';
import type { FeedAddress } from '../document.ts';
import type { FeedSpec } from '../feeds.ts';
import { alternateLinks, CHROME_WORDS, formatLinks, page, plural, showDate, timeElement, type Chrome } from './chrome.ts';

export interface FeedSummary {
  spec: FeedSpec;
  /** Entries the feed holds in all (outputs only). */
  count: number | undefined;
  /** Its newest entries (outputs only). */
  latest: StoredItem[];
}

/** `searchNote`: said under the introduction (the search index being built). */
export function renderIndex(config: Config, feeds: FeedSummary[], health: SourceHealth[], chrome: Chrome, searchNote?: string): string {
  const { baseUrl, lang } = chrome;
  const words = CHROME_WORDS[lang];
  const address = (spec: FeedSpec): FeedAddress => ({ baseUrl, path: spec.path, params: [] });
  const pageLink = (spec: FeedSpec) => `<a href="${e(`${baseUrl}${spec.path}.html`)}">${e(spec.title)}</a>`;
  const outputs = feeds.filter((f) => f.spec.kind === 'feeds');
  const outputSections = outputs.map(({ spec, count, latest }) => {
    const entries = latest.map((item) => {
      const title = item.url ? `<a href="${e(item.url)}">${e(item.title)}</a>` : e(item.title);
      return `<li>${title} <span class="meta">${e(sourceTitle(config, item.sourceId))}, ${timeElement(item.publishedAt, lang)}</span></li>`;
    });
    return `<section class="output" id="output-${e(spec.id)}">
<h3>${pageLink(spec)}</h3>
${spec.description ? `<p>${e(spec.description)}</p>` : ''}
<p>${formatLinks(address(spec))} <span class="count">${plural(count ?? 0, lang, words.entries)}</span></p>
${entries.length ? `<ul class="latest">${entries.join('\n')}</ul>` : `<p class="meta">${words.noEntries}</p>`}
</section>`;
  });
  const list = (kind: FeedSpec['kind']) =>
    feeds
      .filter((f) => f.spec.kind === kind)
      .map(({ spec }) => `<li>${pageLink(spec)} ${formatLinks(address(spec))}</li>`)
      .join('\n');
  const byId = new Map(health.map((h) => [h.id, h]));
  const sourceRows = config.sources.map((s) => {
    const h = byId.get(s.id);
    const cls = !s.enabled ? 'disabled' : h?.errorMessage ? 'error' : h?.lastSuccessAt ? 'ok' : 'pending';
    const state = cls === 'error' ? `${words.state.error}: ${h!.errorMessage}` : words.state[cls];
    // Labelled cells: on a narrow screen a row is a block of lines, without the table's heading.
    const [, , items, lastSuccess] = words.healthColumns;
    return `<tr class="${cls}"><td>${e(s.title ?? h?.title ?? s.id)}</td><td>${e(state)}</td><td data-label="${items}">${h?.itemCount ?? 0}</td><td data-label="${lastSuccess}">${h?.lastSuccessAt ? e(showDate(h.lastSuccessAt, lang)) : '—'}</td></tr>`;
  });
  const opml = `${baseUrl}/feeds.opml`;
  const head = `${outputs.map(({ spec }) => alternateLinks(address(spec), spec.title)).join('\n')}
<link rel="alternate" type="text/x-opml" title="${e(words.allFeedsTitle)}" href="${e(opml)}">`;
  const content = `<h1>newsloom</h1>
<p>${words.intro(plural(config.sources.length, lang, words.sourcesCount), `<a href="${e(opml)}" type="text/x-opml">${words.allFeeds}</a>`)}</p>
${searchNote ? `<p class="meta" id="search-note">${e(searchNote)}</p>\n` : ''}<h2>${words.feeds}</h2>
${outputSections.join('\n') || `<p>${words.noOutputs}</p>`}
${list('topics') ? `<h2>${words.topics}</h2>\n<ul>${list('topics')}</ul>` : ''}
${list('sources') ? `<h2>${words.sources}</h2>\n<ul>${list('sources')}</ul>` : ''}
<h2>${words.health}</h2>
<table id="health"><thead><tr>${words.healthColumns.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead><tbody>
${sourceRows.join('\n')}
</tbody></table>`;
  return page(chrome, words.siteTitle, head, content);
}

function sourceTitle(config: Config, id: string): string {
  const source = config.sources.find((s) => s.id === id);
  return source?.title ?? id;
}
