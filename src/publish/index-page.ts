// The HTML page at "/": every feed with its subscribe link and autodiscovery, and each source's health.
import type { Config } from '../config/schema.ts';
import { escapeHtml } from '../pipeline/normalize.ts';
import type { SourceHealth } from '../store/sources.ts';
import { allFeeds } from './feeds.ts';

export function renderIndex(config: Config, health: SourceHealth[], baseUrl: string): string {
  const feeds = allFeeds(config);
  const e = escapeHtml;
  const byId = new Map(health.map((h) => [h.id, h]));
  const section = (kind: string, heading: string) => {
    const rows = feeds
      .filter((f) => f.kind === kind)
      .map((f) => `<li><a href="${e(`${baseUrl}${f.path}.atom`)}">${e(f.title)}</a>${f.description ? ` — ${e(f.description)}` : ''}</li>`);
    return rows.length ? `<h2>${heading}</h2><ul>${rows.join('')}</ul>` : '';
  };
  const sourceRows = config.sources.map((s) => {
    const h = byId.get(s.id);
    const state = !s.enabled ? 'disabled' : h?.errorMessage ? `error: ${h.errorMessage}` : h?.lastSuccessAt ? 'ok' : 'not polled yet';
    return `<tr><td>${e(s.title ?? s.id)}</td><td>${e(state)}</td><td>${h?.itemCount ?? 0}</td><td>${h?.lastSuccessAt ? new Date(h.lastSuccessAt).toISOString() : '—'}</td></tr>`;
  });
  const discovery = feeds
    .filter((f) => f.kind === 'feeds')
    .map((f) => `<link rel="alternate" type="application/atom+xml" title="${e(f.title)}" href="${e(`${baseUrl}${f.path}.atom`)}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsloom</title>
${discovery}
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}</style>
</head>
<body>
<h1>newsloom</h1>
${section('feeds', 'Feeds')}
${section('topics', 'Topics')}
${section('sources', 'Sources')}
<h2>Source health</h2>
<table><thead><tr><th>Source</th><th>State</th><th>Items</th><th>Last success</th></tr></thead><tbody>${sourceRows.join('')}</tbody></table>
</body>
</html>
`;
}
