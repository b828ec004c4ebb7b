// `newsloom export DIR`: every feed in every format, the index page, the OPML list and the stylesheet
// as files, laid out like the server's URLs, for hosting on any static web server.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allFeeds } from './feeds.ts';
import { parseFeedParams } from './params.ts';
import { feedBody, FORMATS, indexBody, opmlBody, type Site } from './site.ts';
import { STYLESHEET } from './stylesheet.ts';

/** Writes the site under dir; returns the files written, relative to dir. */
export async function exportSite(site: Site, dir: string): Promise<string[]> {
  const files = new Map<string, string>([
    ['index.html', (await indexBody(site)).body],
    ['feeds.opml', opmlBody(site).body],
    ['feed.xsl', STYLESHEET],
  ]);
  for (const spec of allFeeds(site.config)) {
    const parsed = parseFeedParams(site.config, spec, new URLSearchParams());
    if (!parsed.ok) throw new Error(parsed.message);
    for (const format of FORMATS) files.set(`${spec.path.slice(1)}.${format}`, (await feedBody(site, parsed.request, format)).body);
  }
  for (const [name, body] of files) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  return [...files.keys()];
}
