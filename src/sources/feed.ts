// The feed source kind: RSS 0.90–2.0 (with or without a version), RSS 1.0 (RDF), Atom 0.3 and 1.0 text to RawItems.
// A tolerant XML tokenizer (htmlparser2) builds a small tree and the vocabularies are read from it here: no feed
// library reads all of them (ARCHITECTURE.md, "Feed parsing", has the measurements).
import { DecodingMode, decodeHTML } from 'entities';
import { Parser } from 'htmlparser2';
import type { RawEnclosure, RawItem } from '../item.ts';
import { stripIllegalXmlChars } from '../text/xml.ts';

export interface ParsedFeed {
  /** The feed's title as plain text. */
  title: string | undefined;
  link: string | undefined;
  /** The feed's own <ttl> in minutes, a hint for scheduling. */
  ttlMinutes: number | undefined;
  items: RawItem[];
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
}

/** An element of the document: its local name (lowercased), its vocabulary (NAMESPACES), attributes, xml:base. */
interface Element {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: (Element | string)[];
  /** The element's xml:base, resolved against its ancestors'; undefined when the document sets none. */
  base: string | undefined;
  /** Where the element's prefixes lead (inherited from its parent unless it declares its own). */
  scope: Record<string, string>;
}

/**
 * The vocabularies read, by namespace URI. RSS 0.90, 1.0 and the RSS 2.0 namespaces some feeds declare are plain RSS
 * (""); both Atom versions are "atom". Elements of a namespace not listed keep the prefix they were written with, so
 * an undeclared `dc:creator` still counts.
 */
const NAMESPACES: Record<string, string> = {
  '': '',
  'http://my.netscape.com/rdf/simple/0.9/': '',
  'http://purl.org/rss/1.0/': '',
  'http://backend.userland.com/rss2': '',
  'http://blogs.law.harvard.edu/tech/rss': '',
  'http://www.w3.org/2005/atom': 'atom',
  'http://purl.org/atom/ns#': 'atom',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://purl.org/dc/elements/1.0/': 'dc',
  'http://purl.org/dc/terms/': 'dcterms',
  'http://purl.org/rss/1.0/modules/content/': 'content',
  'http://search.yahoo.com/mrss/': 'media',
  'http://search.yahoo.com/mrss': 'media',
  'http://www.itunes.com/dtds/podcast-1.0.dtd': 'itunes',
  'http://www.itunes.com/dtds/podcast-1.0.dtd/': 'itunes',
  'http://www.w3.org/1999/xhtml': 'xhtml',
  'http://www.w3.org/1999/02/22-rdf-syntax-ns#': 'rdf',
};
/** Plain RSS and Atom names match in either: RSS feeds borrow atom:link, old Atom feeds forget their namespace. */
const CORE = new Set(['', 'atom']);

/** Parses a feed's text; the feed's own link resolves against documentUrl (where the feed was fetched from). */
export function parseFeed(text: string, documentUrl?: string): ParsedFeed {
  const { root, unclosed } = parseXml(stripIllegalXmlChars(text));
  if (!root) throw new ParseError(describeNonXml(text));
  const kind = root.name === 'feed' ? 'atom' : root.name === 'rss' || root.name === 'rdf' || root.name === 'channel' ? 'rss' : undefined;
  if (!kind) {
    if (root.name === 'html' || root.name === 'body' || root.ns === 'xhtml') throw new ParseError('the response is an HTML page, not a feed');
    throw new ParseError(`not an RSS or Atom feed: the document's root element is <${root.name}>`);
  }
  const channel = kind === 'atom' ? root : (child(root, 'channel') ?? root);
  const listed = kind === 'atom' ? children(root, 'entry') : [...children(channel, 'item'), ...(channel === root ? [] : children(root, 'item'))];
  // A document cut short keeps the items it holds whole; when every item it lists is cut, it is no feed.
  const entries = listed.filter((entry) => !unclosed.includes(entry));
  if (listed.length > 0 && entries.length === 0) {
    throw new ParseError(`not a valid RSS or Atom feed: the document ends inside <${unclosed[unclosed.length - 1]!.name}>, before its end tag`);
  }
  const ttl = Number(textOf(child(channel, 'ttl')));
  const title = child(channel, 'title') ?? child(channel, 'dc:title');
  return {
    title: title ? plainText(textConstruct(title)) || undefined : undefined,
    link: linkOf(channel, documentUrl),
    ttlMinutes: Number.isFinite(ttl) && ttl > 0 ? ttl : undefined,
    items: entries.map(toRawItem),
  };
}

function toRawItem(item: Element): RawItem {
  const guid = child(item, 'guid') ?? child(item, 'id');
  const guidText = textOf(guid);
  // An RSS guid is a permalink unless it says otherwise: readers link to it when the item has no <link>.
  const guidLink = guid?.name === 'guid' && guid.attrs.ispermalink?.toLowerCase() !== 'false' && /^https?:\/\//i.test(guidText ?? '') ? guidText : undefined;
  const summary = first(item, ['description', 'summary', 'dc:description', 'itunes:summary', 'abstract']);
  const content = first(item, ['content:encoded', 'content', 'xhtml:body', 'body', 'fullitem']);
  const media = mediaOf(item);
  return {
    guid: guidText,
    url: linkOf(item) ?? guidLink,
    title: html(first(item, ['title', 'dc:title', 'media:title'])),
    summary: html(summary),
    content: html(content),
    base: (content ?? summary)?.base,
    author: authorOf(item),
    categories: categoriesOf(item),
    published: textOf(first(item, ['pubdate', 'published', 'dc:date', 'issued', 'dcterms:issued', 'dcterms:created', 'created'])),
    updated: textOf(first(item, ['updated', 'modified', 'dcterms:modified'])) ?? item.attrs.lastmod,
    image: media.image,
    enclosures: media.enclosures.length > 0 ? media.enclosures : undefined,
  };
}

/** The item's (or channel's) page: RSS <link> text, else an Atom alternate link, resolved against its xml:base. */
function linkOf(parent: Element, documentUrl?: string): string | undefined {
  let alternate: string | undefined;
  for (const link of children(parent, 'link')) {
    if ((link.attrs.rel ?? 'alternate').toLowerCase() !== 'alternate') continue;
    const href = link.attrs.href?.trim();
    if (href === undefined) {
      const value = textOf(link);
      if (value) return resolve(value, link.base ?? documentUrl);
    } else if (alternate === undefined && href) {
      alternate = resolve(href, link.base ?? documentUrl);
    }
  }
  // RDF's rdf:about and CDF's href name the item's page too.
  const about = parent.attrs['rdf:about'] ?? parent.attrs.href;
  return alternate ?? (about?.trim() ? resolve(about.trim(), parent.base ?? documentUrl) : undefined);
}

function authorOf(item: Element): string | undefined {
  const author = first(item, ['author', 'dc:creator', 'dc:author', 'itunes:author', 'dc:contributor']);
  if (!author) return undefined;
  // An Atom person construct: the name, else the email.
  const name = textOf(child(author, 'name')) ?? textOf(child(author, 'email'));
  const value = name ?? textOf(author);
  // RSS writes "jo@example.com (Jo Doe)"; others "Jo Doe <jo@example.com>" or "Jo Doe (jo@example.com)": readers show the name.
  const withEmail = value && (/^\S+@\S+\s*\((.+)\)$/.exec(value) ?? /^(.+?)\s*[(<]\S+@[^\s)>]+[)>]$/.exec(value));
  return withEmail ? withEmail[1]!.trim() : value;
}

function categoriesOf(item: Element): string[] | undefined {
  const names: string[] = [];
  const visit = (parent: Element) => {
    for (const node of parent.children) {
      if (typeof node === 'string' || node.name !== (node.ns === 'dc' ? 'subject' : 'category')) continue;
      const value = CORE.has(node.ns) ? (node.attrs.term ?? textOf(node) ?? node.attrs.label) : node.ns === 'itunes' ? node.attrs.text : node.ns === 'media' || node.ns === 'dc' ? textOf(node) : undefined;
      if (value?.trim()) names.push(value.trim());
      // iTunes nests a subcategory in its category.
      if (node.ns === 'itunes') visit(node);
    }
  };
  visit(item);
  return names.length > 0 ? names : undefined;
}

/** Enclosures of any type (RSS <enclosure>, Atom enclosure links, Media RSS), and the item's picture. */
function mediaOf(item: Element): { enclosures: RawEnclosure[]; image: string | undefined } {
  const enclosures: RawEnclosure[] = [];
  const add = (url: string | undefined, type: string | undefined, length: string | undefined, base: string | undefined) => {
    const href = url?.trim() ? resolve(url.trim(), base) : undefined;
    if (!href || enclosures.some((e) => e.url === href)) return;
    const bytes = Number(length);
    enclosures.push({ url: href, type: type?.trim().toLowerCase() || undefined, length: Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined });
  };
  let image: string | undefined;
  let mediaImage: string | undefined;
  const visit = (parent: Element) => {
    for (const node of parent.children) {
      if (typeof node === 'string') continue;
      const { name, ns, attrs } = node;
      if (name === 'enclosure' && ns === '') add(attrs.url ?? attrs.href, attrs.type, attrs.length, node.base);
      else if (name === 'link' && CORE.has(ns) && attrs.rel?.toLowerCase() === 'enclosure') add(attrs.href, attrs.type, attrs.length, node.base);
      else if (ns === 'media' && name === 'content') {
        add(attrs.url, attrs.type, attrs.filesize, node.base);
        if (attrs.url && (attrs.medium === 'image' || attrs.type?.startsWith('image/'))) mediaImage ??= resolve(attrs.url.trim(), node.base);
        visit(node);
      } else if (ns === 'media' && name === 'group') visit(node);
      else if (ns === 'media' && name === 'thumbnail' && attrs.url) mediaImage ??= resolve(attrs.url.trim(), node.base);
      else if (ns === 'itunes' && name === 'image' && (attrs.href ?? textOf(node))) image ??= resolve((attrs.href ?? textOf(node))!.trim(), node.base);
    }
  };
  visit(item);
  const imageEnclosure = enclosures.find((e) => (e.type ? e.type.startsWith('image/') : IMAGE_PATH.test(e.url)));
  return { enclosures, image: image ?? mediaImage ?? imageEnclosure?.url };
}

const IMAGE_PATH = /\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)/i;

/**
 * A text construct (title, summary, content) as the HTML-or-text that RawItem holds. Atom says what it holds (type,
 * Atom 0.3's mode), and declared plain text is escaped, so that later stages never read its "<" as markup. RSS does
 * not say: a summary is left for normalize to judge (any tag makes it HTML, to be sanitized), and a title is taken
 * for HTML only when it looks like it (a closing tag, an entity), as feed readers do. Inline XHTML is written out.
 */
function textConstruct(el: Element): string {
  const type = (el.attrs.type ?? '').toLowerCase();
  const mode = (el.attrs.mode ?? '').toLowerCase();
  if (type === 'xhtml' || type === 'application/xhtml+xml' || mode === 'xml' || el.children.some((c) => typeof c !== 'string')) {
    const content = type === 'xhtml' ? unwrapDiv(el) : el;
    const markup = serializeChildren(content);
    return HAS_TAG.test(markup) ? markup : textAsHtml(rawText(content).trim());
  }
  const value = rawText(el).trim();
  if (mode === 'base64' || isBinaryType(type)) return fromBase64(value);
  if (type === 'html' || type === 'text/html' || mode === 'escaped') return htmlValue(value);
  if (type === 'text' || type === 'text/plain' || (el.ns === 'atom' && type === '')) return textAsHtml(value);
  if (el.name === 'title') return looksLikeHtml(value) ? value : textAsHtml(value);
  return !HAS_TAG.test(value) && looksLikeHtml(value) ? htmlValue(value) : value;
}

/** A tag, as normalize tells HTML from plain text. */
const HAS_TAG = /<[a-z!/][^>]*>/i;

/** HTML as RawItem holds it: HTML without a tag (only entities) is written as the text it stands for. */
function htmlValue(html: string): string {
  return HAS_TAG.test(html) ? html : textAsHtml(decodeHTML(html, DecodingMode.Strict));
}

/** Plain text that holds "<" or "&" as paragraphs of escaped text (what normalize makes of plain text anyway). */
function textAsHtml(text: string): string {
  if (!/[<&]/.test(text)) return text;
  return text
    .split(/\n{2,}/)
    .map((para) => `<p>${escapeText(para.trim())}</p>`)
    .join('');
}

/** Atom 1.0: a type that is a MIME type, not text or XML, means base64 content. */
function isBinaryType(type: string): boolean {
  return type.includes('/') && !type.startsWith('text/') && !type.endsWith('+xml') && !type.endsWith('/xml');
}

function fromBase64(value: string): string {
  const decoded = Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  return looksLikeHtml(decoded) ? htmlValue(decoded) : textAsHtml(decoded);
}

function looksLikeHtml(value: string): boolean {
  return /<\/[a-z][a-z0-9]*\s*>|<[a-z][a-z0-9]*[^<>]*\/>|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i.test(value) || /^\s*<(?:p|div|br|img|a|b|i|em|strong|ul|ol|table|span|h[1-6])\b[^<>]*>/i.test(value);
}

function html(el: Element | undefined): string | undefined {
  return el ? textConstruct(el) || undefined : undefined;
}

function plainText(htmlText: string): string {
  return decodeHTML(htmlText.replace(/<[^>]*>/g, ''), DecodingMode.Strict).replace(/\s+/g, ' ').trim();
}

/** Inline XHTML content (Atom type="xhtml") comes wrapped in one <div> that is not part of it. */
function unwrapDiv(el: Element): Element {
  const elements = el.children.filter((c): c is Element => typeof c !== 'string');
  const onlyText = el.children.every((c) => typeof c !== 'string' || !c.trim());
  return elements.length === 1 && elements[0]!.name === 'div' && elements[0]!.ns === 'xhtml' && onlyText ? elements[0]! : el;
}

const VOID = new Set(['area', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

function serializeChildren(el: Element): string {
  let out = '';
  for (const node of el.children) {
    if (typeof node === 'string') {
      out += escapeText(node);
      continue;
    }
    const attrs = Object.entries(node.attrs)
      .filter(([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'))
      .map(([name, value]) => ` ${name}="${value.replace(/[&"<]/g, (c) => ESCAPES[c]!)}"`)
      .join('');
    out += VOID.has(node.name) && node.children.length === 0 ? `<${node.name}${attrs}>` : `<${node.name}${attrs}>${serializeChildren(node)}</${node.name}>`;
  }
  return out.trim();
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => ESCAPES[c]!);
}

/** The first child with one of these names ("title" matches RSS or Atom, "dc:creator" Dublin Core). */
function first(parent: Element, names: string[]): Element | undefined {
  for (const name of names) {
    const found = child(parent, name);
    if (found && (found.children.length > 0 || Object.keys(found.attrs).length > 0)) return found;
  }
  return undefined;
}

function matches(el: Element, qualified: string): boolean {
  const colon = qualified.indexOf(':');
  if (colon < 0) return el.name === qualified && CORE.has(el.ns);
  return el.name === qualified.slice(colon + 1) && el.ns === qualified.slice(0, colon);
}

function child(parent: Element, name: string): Element | undefined {
  for (const node of parent.children) if (typeof node !== 'string' && matches(node, name)) return node;
  return undefined;
}

function children(parent: Element, name: string): Element[] {
  return parent.children.filter((node): node is Element => typeof node !== 'string' && matches(node, name));
}

function rawText(el: Element): string {
  let text = '';
  for (const node of el.children) text += typeof node === 'string' ? node : rawText(node);
  return text;
}

function textOf(el: Element | undefined): string | undefined {
  return el ? rawText(el).trim() || undefined : undefined;
}

function resolve(url: string, base: string | undefined): string {
  if (!base) return url;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** The document's root element (undefined when the text holds no element at all), and the elements still open at its end. */
function parseXml(text: string): { root: Element | undefined; unclosed: Element[] } {
  const top: Element = { name: '', ns: '', attrs: {}, children: [], base: undefined, scope: {} };
  const stack: Element[] = [top];
  let cdata = false;
  const parser = new Parser(
    {
      onopentag(qualified, rawAttrs) {
        const parent = stack[stack.length - 1]!;
        const attrs: Record<string, string> = {};
        let scope = parent.scope;
        for (const [name, value] of Object.entries(rawAttrs)) {
          const key = name.toLowerCase();
          const decoded = decodeHTML(value, DecodingMode.Strict);
          attrs[key] = decoded;
          if (key === 'xmlns' || key.startsWith('xmlns:')) {
            if (scope === parent.scope) scope = { ...parent.scope };
            scope[key.slice(6)] = decoded.trim();
          }
        }
        const colon = qualified.indexOf(':');
        const prefix = colon < 0 ? '' : qualified.slice(0, colon).toLowerCase();
        const uri = scope[prefix];
        // An unknown default namespace is read as plain RSS/Atom (feeds invent their own); an unknown prefix stays apart.
        const ns = uri === undefined ? prefix : (NAMESPACES[uri.toLowerCase()] ?? prefix);
        const xmlBase = attrs['xml:base']?.trim();
        const base = xmlBase === undefined ? parent.base : resolve(xmlBase, parent.base);
        const el: Element = { name: qualified.slice(colon + 1).toLowerCase(), ns, attrs, children: [], base, scope };
        parent.children.push(el);
        stack.push(el);
      },
      ontext(chunk) {
        stack[stack.length - 1]!.children.push(cdata ? chunk : decodeHTML(chunk, DecodingMode.Strict));
      },
      oncdatastart() {
        cdata = true;
      },
      oncdataend() {
        cdata = false;
      },
      onclosetag() {
        if (stack.length > 1) stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: false, recognizeCDATA: true, recognizeSelfClosing: true },
  );
  parser.write(text);
  const unclosed = stack.slice(1);
  parser.end();
  return { root: top.children.find((c): c is Element => typeof c !== 'string'), unclosed };
}

function describeNonXml(body: string): string {
  const head = body.slice(0, 512).trimStart();
  if (head.length === 0) return 'the response is empty';
  if (head.startsWith('{') || head.startsWith('[')) return 'the response is JSON, not an RSS or Atom feed';
  return 'the response is not XML';
}
