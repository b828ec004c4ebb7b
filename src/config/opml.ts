// OPML in and out of the config: the feeds of an OPML file become sources of the YAML config (edited in
// place with yaml's Document API, so the maintainers' comments and layout survive), and the sources of
// the config are written as OPML for a feed reader.
import { load } from 'cheerio/slim';
import { isMap, isNode, isScalar, isSeq, parseDocument, stringify, type Document } from 'yaml';
import { canonicalUrl } from '../pipeline/normalize.ts';
import { opmlDocument } from '../publish/opml.ts';
import type { SourceConfig } from './schema.ts';

export interface OpmlFeed {
  title: string;
  url: string;
}

export class OpmlError extends Error {
  override readonly name = 'OpmlError';
}

/** Every outline with an xmlUrl, at any depth (folders of feeds are flattened). */
export function parseOpml(text: string): OpmlFeed[] {
  const $ = load(text, { xml: true });
  if ($('opml').length === 0) throw new OpmlError('not an OPML document: no <opml> element');
  return $('outline')
    .toArray()
    .flatMap((element) => {
      const outline = $(element);
      const url = (outline.attr('xmlUrl') ?? outline.attr('xmlurl'))?.trim();
      if (!url) return [];
      const title = (outline.attr('title') ?? outline.attr('text') ?? '').trim();
      return [{ title, url }];
    });
}

export interface ImportResult {
  /** The config text with the new sources appended to `sources:`. */
  text: string;
  added: { id: string; title: string; url: string }[];
  skipped: { url: string; reason: string }[];
}

/** Appends the feeds the config does not have yet to its sources, keeping everything else of the text. */
export function addFeedsToConfig(configText: string, feeds: OpmlFeed[], note: string): ImportResult {
  const doc = parseDocument(configText);
  if (doc.errors.length > 0) throw new OpmlError(`the config is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const sources = doc.get('sources', true);
  if (sources !== undefined && !isSeq(sources) && !(isScalar(sources) && sources.value === null)) {
    throw new OpmlError('the config\'s "sources" is not a list');
  }
  const existing = isSeq(sources) ? sources.items.filter(isMap) : [];
  const ids = new Set(existing.map((s) => String(s.get('id'))));
  const urls = new Set(existing.map((s) => sameFeedKey(String(s.get('url')))));
  const added: ImportResult['added'] = [];
  const skipped: ImportResult['skipped'] = [];
  for (const feed of feeds) {
    if (!/^https?:\/\//i.test(feed.url)) {
      skipped.push({ url: feed.url, reason: 'not an http:// or https:// URL' });
      continue;
    }
    const key = sameFeedKey(feed.url);
    if (urls.has(key)) {
      skipped.push({ url: feed.url, reason: 'already a source' });
      continue;
    }
    urls.add(key);
    const id = uniqueId(sourceId(feed), ids);
    ids.add(id);
    added.push({ id, title: feed.title || id, url: feed.url });
  }
  if (added.length === 0) return { text: configText, added, skipped };
  return { text: appendSources(configText, doc, added, note), added, skipped };
}

/**
 * The config text with entries added at the end of its `sources:` list. When the list is a block list
 * with items (the usual case) the entries are spliced in as text, so nothing else of the file changes,
 * not even spacing; otherwise the document is edited and printed again (comments survive that too).
 */
function appendSources(text: string, doc: Document, entries: ImportResult['added'], note: string): string {
  const sources = doc.get('sources', true);
  const last = isSeq(sources) && !sources.flow ? sources.items.at(-1) : undefined;
  if (isSeq(sources) && sources.range && isNode(last) && last.range) {
    const indent = sources.range[0] - (text.lastIndexOf('\n', sources.range[0] - 1) + 1);
    // The last item ends at its last value, or after its trailing comments: insert after that line.
    let at = last.range[1];
    let prefix = '';
    if (at > 0 && text[at - 1] !== '\n') {
      const lineEnd = text.indexOf('\n', at);
      if (lineEnd === -1) [at, prefix] = [text.length, '\n'];
      else at = lineEnd + 1;
    }
    const block = `# ${note}\n${stringify(entries)}`.replace(/^(?=.)/gm, ' '.repeat(indent));
    return text.slice(0, at) + prefix + block + text.slice(at);
  }
  const seq = isSeq(sources) ? sources : doc.createNode([]);
  seq.flow = false;
  entries.forEach((entry, i) => {
    const node = doc.createNode(entry);
    if (i === 0) node.commentBefore = ` ${note}`;
    seq.add(node);
  });
  doc.set('sources', seq);
  return doc.toString();
}

/** Two URLs name the same feed when their canonical forms match, whatever the scheme. */
function sameFeedKey(url: string): string {
  return canonicalUrl(url).replace(/^https?:\/\//, '').replace(/\/$/, '');
}

const RUSSIAN: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n',
  о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y',
  ь: '', э: 'e', ю: 'yu', я: 'ya', ә: 'a', ғ: 'g', қ: 'q', ң: 'n', ө: 'o', ұ: 'u', ү: 'u', һ: 'h', і: 'i',
};

/** A source id from the feed's title (Cyrillic transliterated), else from its host. */
export function sourceId(feed: OpmlFeed): string {
  const fromTitle = slug(feed.title);
  if (fromTitle) return fromTitle;
  try {
    return slug(new URL(feed.url).hostname.replace(/^www\./, '')) || 'feed';
  } catch {
    return 'feed';
  }
}

function slug(text: string): string {
  const latin = [...text.toLowerCase()].map((ch) => RUSSIAN[ch] ?? ch).join('');
  return latin
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

function uniqueId(id: string, taken: Set<string>): string {
  if (!taken.has(id)) return id;
  let n = 2;
  while (taken.has(`${id}-${n}`)) n++;
  return `${id}-${n}`;
}

/** OPML 2.0 listing the feed sources, for importing into a feed reader. */
export function renderOpml(sources: SourceConfig[], title: string, now: Date): string {
  return opmlDocument(title, sources.filter((s) => s.kind === 'feed').map((s) => ({ title: s.title ?? s.id, xmlUrl: s.url })), now);
}

