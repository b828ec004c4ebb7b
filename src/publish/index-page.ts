// The HTML page at "/": each output with its description, subscribe links, entry count and latest
// entries; topic and source feeds; a search form; each source's health; autodiscovery links.
import type { Config } from '../config/schema.ts';
import { escapeHtml as e } from '../text/html.ts';
import type { StoredItem } from '../store/store.ts';
import type { SourceHealth } from '../store/store.ts';
import { feedUrl, MEDIA_TYPES, type FeedFormat } from './document.ts';
import type { FeedSpec } from './feeds.ts';

export interface FeedSummary {
  spec: FeedSpec;
  /** Entries the feed holds in all (outputs only). */
  count: number | undefined;
  /** Its newest entries (outputs only). */
  latest: StoredItem[];
}

const FORMAT_NAMES: [FeedFormat, string][] = [
  ['atom', 'Atom'],
  ['rss', 'RSS'],
  ['json', 'JSON Feed'],
];

export function renderIndex(config: Config, feeds: FeedSummary[], health: SourceHealth[], baseUrl: string): string {
  const url = (spec: FeedSpec, format: FeedFormat) => feedUrl({ baseUrl, path: spec.path, params: [] }, format);
  const subscribe = (spec: FeedSpec) =>
    `<span class="subscribe">${FORMAT_NAMES.map(([format, name]) => `<a href="${e(url(spec, format))}" type="${MEDIA_TYPES[format]}">${name}</a>`).join(' ')}</span>`;
  const outputs = feeds.filter((f) => f.spec.kind === 'feeds');
  const outputSections = outputs.map(({ spec, count, latest }) => {
    const entries = latest.map((item) => {
      const title = item.url ? `<a href="${e(item.url)}">${e(item.title)}</a>` : e(item.title);
      return `<li>${title} <span class="meta">${e(sourceTitle(config, item.sourceId))}, <time datetime="${new Date(item.publishedAt).toISOString()}">${e(shortDate(item.publishedAt))}</time></span></li>`;
    });
    return `<section class="output" id="output-${e(spec.id)}">
<h3>${e(spec.title)}</h3>
${spec.description ? `<p>${e(spec.description)}</p>` : ''}
<p>${subscribe(spec)} <span class="count">${count ?? 0} ${count === 1 ? 'entry' : 'entries'}</span></p>
${entries.length ? `<ul class="latest">${entries.join('\n')}</ul>` : '<p class="meta">No entries yet.</p>'}
</section>`;
  });
  const list = (kind: FeedSpec['kind']) =>
    feeds
      .filter((f) => f.spec.kind === kind)
      .map(({ spec }) => `<li>${e(spec.title)} ${subscribe(spec)}</li>`)
      .join('\n');
  const byId = new Map(health.map((h) => [h.id, h]));
  const sourceRows = config.sources.map((s) => {
    const h = byId.get(s.id);
    const state = !s.enabled ? 'disabled' : h?.errorMessage ? `error: ${h.errorMessage}` : h?.lastSuccessAt ? 'ok' : 'not polled yet';
    const cls = !s.enabled ? 'disabled' : h?.errorMessage ? 'error' : h?.lastSuccessAt ? 'ok' : 'pending';
    return `<tr class="${cls}"><td>${e(s.title ?? h?.title ?? s.id)}</td><td>${e(state)}</td><td>${h?.itemCount ?? 0}</td><td>${h?.lastSuccessAt ? e(shortDate(h.lastSuccessAt)) : '—'}</td></tr>`;
  });
  const discovery = outputs
    .flatMap(({ spec }) =>
      FORMAT_NAMES.map(
        ([format, name]) =>
          `<link rel="alternate" type="${MEDIA_TYPES[format]}" title="${e(format === 'atom' ? spec.title : `${spec.title} (${name})`)}" href="${e(url(spec, format))}">`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsloom feeds</title>
${discovery}
<link rel="alternate" type="text/x-opml" title="All feeds (OPML)" href="${e(`${baseUrl}/feeds.opml`)}">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#222}
.meta,.count{color:#666;font-size:.85rem}.subscribe a{margin-right:.4rem}
section.output{border-bottom:1px solid #ddd;padding-bottom:.5rem}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}
tr.error td:nth-child(2){color:#a00}
</style>
</head>
<body>
<h1>newsloom</h1>
<p>News from ${config.sources.length} ${config.sources.length === 1 ? 'source' : 'sources'}, woven into feeds by topic. Subscribe to any feed below in your feed reader, or import <a href="${e(`${baseUrl}/feeds.opml`)}">all of them (OPML)</a>.</p>
<form action="${e(`${baseUrl}/search.atom`)}" method="get" role="search"><label>Search <input type="search" name="q" required maxlength="256"></label> <button>Search</button></form>
<h2>Feeds</h2>
${outputSections.join('\n') || '<p>No outputs are configured.</p>'}
${list('topics') ? `<h2>Topics</h2>\n<ul>${list('topics')}</ul>` : ''}
${list('sources') ? `<h2>Sources</h2>\n<ul>${list('sources')}</ul>` : ''}
<h2>Source health</h2>
<table id="health"><thead><tr><th>Source</th><th>State</th><th>Items</th><th>Last success</th></tr></thead><tbody>
${sourceRows.join('\n')}
</tbody></table>
</body>
</html>
`;
}

function sourceTitle(config: Config, id: string): string {
  const source = config.sources.find((s) => s.id === id);
  return source?.title ?? id;
}

function shortDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
