// RawItem to Item: absolute and canonical URLs, plain text, sanitized HTML, parsed dates, a content hash.
import { createHash } from 'node:crypto';
import type { Item, RawItem } from '../item.ts';
import { parseSourceDate, type DateContext } from '../sources/dates.ts';
import { collapse, htmlToText } from '../text/html.ts';
import { sanitize } from './sanitize.ts';

export interface NormalizeContext {
  sourceId: string;
  language: string | null;
  /** The URL the items were fetched from, to resolve relative links. */
  baseUrl: string;
  now: number;
  /** The IANA time zone of dates the source prints without an offset; UTC when not given. */
  timeZone?: string;
  /** Told about what the source sent that could not be read (a date), naming the text. */
  warn?: (message: string) => void;
}

export function normalize(raw: RawItem, ctx: NormalizeContext): Item {
  const url = absoluteUrl(raw.url, ctx.baseUrl);
  const base = absoluteUrl(raw.base, ctx.baseUrl) ?? url ?? ctx.baseUrl;
  const summary = body(raw.summary, base);
  const content = body(raw.content, base);
  const summaryText = summary.text;
  const contentText = content.text;
  const title = collapse(htmlToText(raw.title ?? '')) || firstWords(summaryText || contentText) || url || '(untitled)';
  const categories = [...new Set((raw.categories ?? []).map((c) => collapse(c)).filter(Boolean))];
  const author = collapse(raw.author ?? '') || null;
  const image = absoluteUrl(raw.image, url ?? ctx.baseUrl);
  const enclosures = (raw.enclosures ?? []).flatMap((e) => {
    const href = absoluteUrl(e.url, url ?? ctx.baseUrl);
    return href ? [{ url: href, type: e.type ?? null, length: e.length ?? null }] : [];
  });
  const date = (value: string | undefined) => {
    const ms = parseDate(value, { now: ctx.now, timeZone: ctx.timeZone ?? 'UTC' });
    if (value?.trim() && ms === null) ctx.warn?.(`cannot read the date "${value.trim()}" of "${title}"; using the time it was first seen`);
    return ms;
  };
  const updatedAt = date(raw.updated);
  const item: Omit<Item, 'contentHash'> = {
    sourceId: ctx.sourceId,
    guid: raw.guid?.trim() || null,
    url,
    canonicalUrl: url ? canonicalUrl(url) : null,
    title,
    summaryHtml: summary.html,
    contentHtml: content.html,
    summaryText,
    contentText,
    author,
    categories,
    publishedAt: date(raw.published) ?? updatedAt,
    updatedAt,
    language: ctx.language,
    image,
    enclosures,
  };
  return { ...item, contentHash: contentHash(item) };
}

/** The item with another body (a full article fetched from its page): already sanitized HTML, its text, a new hash. */
export function withContent(item: Item, contentHtml: string): Item {
  const next = { ...item, contentHtml, contentText: htmlToText(contentHtml) };
  return { ...next, contentHash: contentHash(next) };
}

function contentHash(item: Omit<Item, 'contentHash'>): string {
  // An enclosure that is the picture is already in it as the image: items stored before enclosures were kept (TASS's
  // picture enclosures) keep their hash, and are not all updated at once after an upgrade.
  const media = item.enclosures.filter((e) => e.url !== item.image).map((e) => e.url);
  return hash([item.title, item.url ?? '', item.summaryHtml, item.contentHtml, item.author ?? '', item.image ?? '', ...item.categories, ...media]);
}

export function hash(parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);
}

const TRACKING_PARAM = /^(utm_.*|fbclid|gclid|yclid|dclid|msclkid|mc_cid|mc_eid|_openstat)$/i;

/** The form of a URL used to recognise the same item: lowercase scheme and host, no fragment, no tracking parameters. */
export function canonicalUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.trim();
  }
  parsed.hash = '';
  for (const name of [...parsed.searchParams.keys()]) if (TRACKING_PARAM.test(name)) parsed.searchParams.delete(name);
  // URL already lowercases scheme and host and drops default ports.
  return parsed.href.replace(/\?$/, '');
}

/** An absolute http(s) URL, or null when the value is not one. */
export function absoluteUrl(url: string | undefined, base: string): string | null {
  if (!url?.trim()) return null;
  try {
    const resolved = new URL(url.trim(), base);
    return resolved.protocol === 'http:' || resolved.protocol === 'https:' ? resolved.href : null;
  } catch {
    return null;
  }
}

/**
 * A summary or body as sanitized HTML and as plain text. Plain-text descriptions (TASS sends one sentence) become
 * paragraphs of escaped text, so that every stage can treat summaries alike; they hold no markup to sanitize, so they
 * skip the HTML parser (the output is what sanitize() would give for them: text escaped as sanitize-html escapes it).
 */
function body(value: string | undefined, baseUrl: string): { html: string; text: string } {
  if (!value) return { html: '', text: '' };
  if (/<[a-z!/][^>]*>/i.test(value)) {
    const html = sanitize(value, baseUrl);
    return { html, text: htmlToText(html) };
  }
  const html = value
    .split(/\n{2,}/)
    .map((para) => `<p>${para.trim().replace(/[&<>]/g, (c) => TEXT_ENTITIES[c]!)}</p>`)
    .join('');
  return { html, text: collapse(value) };
}

const TEXT_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function firstWords(text: string, max = 80): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 40))}…`;
}

/** Epoch ms of a date the source printed; dates in the future are clamped to now (a wrong clock must not pin an item on top). */
export function parseDate(value: string | undefined, ctx: DateContext): number | null {
  if (!value) return null;
  const ms = parseSourceDate(value, ctx);
  return ms === null ? null : Math.min(ms, ctx.now);
}
