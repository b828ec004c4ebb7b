// Checks an Atom document against the rules of RFC 4287, written from the RFC (section numbers below),
// plus XML 1.0's character rules. Returns every violation as "where: what", so a test shows them all.
import { XMLParser } from 'fast-xml-parser';

export interface Node {
  '#text': string;
  '@'?: Record<string, string>[];
  [child: string]: Node[] | string | Record<string, string>[] | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  isArray: () => true,
  alwaysCreateTextNode: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
});

/** Parses XML into arrays of nodes: every child is an array, text is "#text", attributes are under "@". */
export function parseXml(xml: string): Record<string, Node[]> {
  return parser.parse(xml) as Record<string, Node[]>;
}

export const children = (node: Node, name: string): Node[] => (node[name] as Node[] | undefined) ?? [];
export const attr = (node: Node, name: string): string | undefined => node['@']?.[0]?.[name];
export const text = (node: Node): string => node['#text'];

// RFC 3339 section 5.6 date-time; RFC 4287 3.3 asks for an uppercase "T" and "Z".
export const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
// XML 1.0 section 2.2: the characters a document may contain.
// eslint-disable-next-line no-control-regex
const ILLEGAL_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;.*)?$/i;
const LANGUAGE_TAG = /^[a-z]{1,8}(-[a-z0-9]{1,8})*$/i;

function isIri(value: string | undefined): boolean {
  if (value === undefined || /\s/.test(value)) return false;
  try {
    return /^[a-z][a-z0-9+.-]*:/i.test(value) && new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

export function checkAtom(xml: string): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string) => problems.push(`${where}: ${what}`);
  if (ILLEGAL_XML_CHAR.test(xml)) fail('document', 'contains a character XML 1.0 forbids');
  if (!xml.startsWith('<?xml version="1.0" encoding="utf-8"?>')) fail('document', 'does not start with an XML declaration naming UTF-8');
  // "]]>" may not appear in character data (XML 1.0 section 2.4); we never write CDATA sections.
  if (xml.includes(']]>')) fail('document', 'contains "]]>"');
  const root = parseXml(xml).feed;
  if (root?.length !== 1) return [...problems, 'document: the root is not one atom:feed'];
  const feed = root[0]!;
  if (attr(feed, 'xmlns') !== 'http://www.w3.org/2005/Atom') fail('feed', 'not in the Atom namespace');

  const exactlyOne = (node: Node, where: string, names: string[]) => {
    for (const name of names) if (children(node, name).length !== 1) fail(where, `must contain exactly one atom:${name}, has ${children(node, name).length}`);
  };
  const atMostOne = (node: Node, where: string, names: string[]) => {
    for (const name of names) if (children(node, name).length > 1) fail(where, `must not contain more than one atom:${name}`);
  };
  // 3.1 Text constructs: type is text, html or xhtml; html holds escaped markup (no child elements).
  const textConstruct = (node: Node, where: string) => {
    const type = attr(node, 'type') ?? 'text';
    if (!['text', 'html', 'xhtml'].includes(type)) fail(where, `text construct of type "${type}"`);
    if (type !== 'xhtml' && Object.keys(node).some((k) => k !== '#text' && k !== '@')) fail(where, 'has child elements in a text or html construct');
  };
  // 3.2 Person constructs: exactly one name; at most one uri and email; uri is an IRI.
  const person = (node: Node, where: string) => {
    exactlyOne(node, where, ['name']);
    atMostOne(node, where, ['uri', 'email']);
    for (const uri of children(node, 'uri')) if (!isIri(text(uri))) fail(where, 'atom:uri is not an IRI');
    if (children(node, 'name').some((n) => !text(n).trim())) fail(where, 'atom:name is empty');
  };
  // 3.3 Date constructs.
  const date = (node: Node, where: string) => {
    if (!RFC3339.test(text(node))) fail(where, `"${text(node)}" is not an RFC 3339 date-time`);
  };
  // 4.2.6 atom:id: an absolute IRI, without surrounding whitespace.
  const id = (node: Node, where: string) => {
    if (!isIri(text(node))) fail(where, `atom:id "${text(node)}" is not an absolute IRI`);
  };
  // 4.2.7 atom:link: href required (an IRI reference), type a media type, rel a name or an IRI.
  const links = (node: Node, where: string) => {
    const alternates = new Set<string>();
    for (const link of children(node, 'link')) {
      const rel = attr(link, 'rel') ?? 'alternate';
      const type = attr(link, 'type');
      if (!attr(link, 'href')) fail(where, 'atom:link without href');
      else if (!isIri(attr(link, 'href'))) fail(where, `atom:link href "${attr(link, 'href')}" is not absolute`);
      if (type !== undefined && !MEDIA_TYPE.test(type)) fail(where, `atom:link type "${type}" is not a media type`);
      if (!/^[a-z][a-z0-9.-]*$/i.test(rel) && !isIri(rel)) fail(where, `atom:link rel "${rel}" is neither a name nor an IRI`);
      if (attr(link, 'hreflang') !== undefined && !LANGUAGE_TAG.test(attr(link, 'hreflang')!)) fail(where, 'atom:link hreflang is not a language tag');
      if (rel === 'alternate') {
        const key = `${type ?? ''} ${attr(link, 'hreflang') ?? ''}`;
        if (alternates.has(key)) fail(where, `more than one alternate link of type "${type}"`);
        alternates.add(key);
      }
    }
  };
  // 4.2.2 atom:category: term required; scheme an IRI.
  const categories = (node: Node, where: string) => {
    for (const category of children(node, 'category')) {
      if (!attr(category, 'term')) fail(where, 'atom:category without term');
      if (attr(category, 'scheme') !== undefined && !isIri(attr(category, 'scheme'))) fail(where, 'atom:category scheme is not an IRI');
    }
  };
  const lang = (node: Node, where: string) => {
    const value = attr(node, 'xml:lang');
    if (value !== undefined && !LANGUAGE_TAG.test(value)) fail(where, `xml:lang "${value}" is not a language tag`);
  };
  // Elements any of feed, entry and source may carry.
  const common = (node: Node, where: string) => {
    for (const name of ['title', 'subtitle', 'rights', 'summary']) for (const t of children(node, name)) textConstruct(t, `${where} atom:${name}`);
    for (const name of ['author', 'contributor']) for (const p of children(node, name)) person(p, `${where} atom:${name}`);
    for (const name of ['updated', 'published']) for (const d of children(node, name)) date(d, `${where} atom:${name}`);
    for (const i of children(node, 'id')) id(i, where);
    for (const g of children(node, 'generator')) if (attr(g, 'uri') !== undefined && !isIri(attr(g, 'uri'))) fail(where, 'atom:generator uri is not an IRI');
    links(node, where);
    categories(node, where);
    lang(node, where);
  };

  // 4.1.1 atom:feed.
  exactlyOne(feed, 'feed', ['id', 'title', 'updated']);
  atMostOne(feed, 'feed', ['generator', 'icon', 'logo', 'rights', 'subtitle']);
  common(feed, 'feed');
  if (!children(feed, 'link').some((l) => attr(l, 'rel') === 'self')) fail('feed', 'has no link rel="self" (a SHOULD in 4.1.1)');
  const entries = children(feed, 'entry');
  const feedHasAuthor = children(feed, 'author').length > 0;
  const ids = new Set<string>();
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    // 4.1.2 atom:entry.
    exactlyOne(entry, where, ['id', 'title', 'updated']);
    atMostOne(entry, where, ['content', 'published', 'rights', 'source', 'summary']);
    common(entry, where);
    const sources = children(entry, 'source');
    if (!feedHasAuthor && children(entry, 'author').length === 0 && !sources.some((s) => children(s, 'author').length > 0)) {
      fail(where, 'has no atom:author, and neither its atom:source nor the feed has one');
    }
    const content = children(entry, 'content')[0];
    const hasAlternate = children(entry, 'link').some((l) => (attr(l, 'rel') ?? 'alternate') === 'alternate');
    if (!content && !hasAlternate) fail(where, 'has neither atom:content nor an alternate link');
    if (content) {
      // 4.1.3 atom:content.
      const type = attr(content, 'type') ?? 'text';
      if (!['text', 'html', 'xhtml'].includes(type) && !MEDIA_TYPE.test(type)) fail(where, `atom:content type "${type}"`);
      if (['text', 'html'].includes(type) && Object.keys(content).some((k) => k !== '#text' && k !== '@')) fail(where, 'atom:content has child elements');
      if (attr(content, 'src') !== undefined && children(entry, 'summary').length === 0) fail(where, 'atom:content with src needs atom:summary');
    }
    // 4.2.11 atom:source: feed metadata, never entries.
    for (const source of sources) {
      if (children(source, 'entry').length) fail(where, 'atom:source contains entries');
      atMostOne(source, `${where} atom:source`, ['id', 'title', 'updated', 'generator', 'icon', 'logo', 'rights', 'subtitle']);
      common(source, `${where} atom:source`);
    }
    const entryId = children(entry, 'id')[0];
    if (entryId) {
      if (ids.has(text(entryId))) fail(where, `repeats the atom:id ${text(entryId)}`);
      ids.add(text(entryId));
    }
  });
  return problems;
}
