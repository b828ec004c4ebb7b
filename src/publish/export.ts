// `newsloom export DIR`: every feed in every format and its HTML page, the index page, the OPML list and
// the stylesheet as files, laid out like the server's URLs, for hosting on any static web server. Pages are
// in English and have no search box: nothing on a static host could answer it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allFeeds } from './feeds.ts';
import { parseFeedParams } from './params.ts';
import { feedBody, FORMATS, indexBody, opmlBody, pageBody, type Site } from './site.ts';
import { STYLESHEET } from './stylesheet.ts';

/** Writes the site under dir; returns the files written, relative to dir. */
export async function exportSite(site: Site, dir: string): Promise<string[]> {
  const files = new Map<string, string>([
    ['index.html', (await indexBody(site, 'en')).body],
    ['feeds.opml', opmlBody(site).body],
    ['feed.xsl', STYLESHEET],
  ]);
  for (const spec of allFeeds(site.config)) {
    const parsed = parseFeedParams(site.config, spec, new URLSearchParams());
    if (!parsed.ok) throw new Error(parsed.message);
    for (const format of FORMATS) files.set(`${spec.path.slice(1)}.${format}`, (await feedBody(site, parsed.request, format)).body);
    files.set(`${spec.path.slice(1)}.html`, (await pageBody(site, parsed.request, { lang: 'en', back: [] })).body);
  }
  for (const [name, body] of files) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  return [...files.keys()];
}
