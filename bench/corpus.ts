// `npm run corpus -- DIR`: every XML file of a feedparser-style test corpus (a comment with `Expect: <Python
// expression>` at the top) through the daemon's feed path (prepareFeed: decode, parse, normalize, sanitize), and
// what came out: exceptions, wellformed feeds rejected, the Expect cases met per folder and per field, what could not
// be evaluated and why, and whether any live markup survived the sanitize cases.
//   --failures   also print each case not met (file, expectation, what newsloom made of it)
// An expectation is evaluable when it is a conjunction of `path == literal` about a field newsloom keeps (titles and
// links of the feed; title, link, id, dates, summary, content, author and categories of its entries); "not bozo" is
// read as "the file is wellformed". HTML is compared by its tags, attributes and text (our sanitizer adds rel to
// links and writes plain text as paragraphs); titles are plain text here, so a title is met when it equals the text
// of the expected value.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Parser } from 'htmlparser2';
import type { Item } from '../src/item.ts';
import { htmlToText } from '../src/text/html.ts';
import { prepareFeed } from '../src/pipeline/prepare.ts';
import { ParseError } from '../src/sources/feed.ts';

const FIELDS = ['title', 'link', 'id', 'dates', 'summary', 'content', 'author', 'categories'] as const;
type Field = (typeof FIELDS)[number];

/** What a feed path makes of one file: the feed's title and link and its items, or a thrown error. */
export interface Read {
  title: string | undefined;
  siteUrl: string | undefined;
  items: Item[];
}
export type FeedPath = (body: Buffer, contentType: string | null, url: string) => Promise<Read>;

/** The daemon's own path. Dates are read with "now" far ahead, so that none is clamped to the time of the run. */
export const daemonPath: FeedPath = (body, contentType, url) =>
  prepareFeed({ sourceId: 'corpus', language: null, timeZone: 'UTC', body, contentType, url, now: Date.UTC(2100, 0, 1), withRaw: false });

interface Tally {
  files: number;
  exceptions: number;
  rejected: number;
  evaluable: number;
  met: number;
  live: number;
}

export interface CorpusReport {
  folders: Map<string, Tally>;
  fields: Map<Field, { evaluable: number; met: number }>;
  notEvaluable: Map<string, number>;
  exceptions: string[];
  rejected: string[];
  failures: string[];
  liveMarkup: string[];
  skipped: number;
}

export async function runCorpus(dir: string, read: FeedPath = daemonPath): Promise<CorpusReport> {
  const report: CorpusReport = {
    folders: new Map(),
    fields: new Map(FIELDS.map((f) => [f, { evaluable: 0, met: 0 }])),
    notEvaluable: new Map(),
    exceptions: [],
    rejected: [],
    failures: [],
    liveMarkup: [],
    skipped: 0,
  };
  const skip = (why: string) => report.notEvaluable.set(why, (report.notEvaluable.get(why) ?? 0) + 1);
  for (const file of listFiles(dir)) {
    const rel = path.relative(dir, file);
    if (!file.endsWith('.xml')) {
      report.skipped++;
      continue;
    }
    const body = readFileSync(file);
    const { expect, contentType } = header(body.toString('latin1'));
    const folder = path.dirname(rel) === '.' ? '.' : path.dirname(rel).split(path.sep).slice(0, 2).join('/');
    const tally = report.folders.get(folder) ?? { files: 0, exceptions: 0, rejected: 0, evaluable: 0, met: 0, live: 0 };
    report.folders.set(folder, tally);
    tally.files++;
    const wellformed = !rel.split(path.sep).includes('illformed') && !/^\s*bozo\b/.test(expect ?? '');
    let result: Read | undefined;
    try {
      result = await read(body, contentType, `http://127.0.0.1:8097/tests/${rel.split(path.sep).join('/')}`);
    } catch (err) {
      if (!(err instanceof ParseError)) {
        tally.exceptions++;
        report.exceptions.push(`${rel}: ${(err as Error).message}`);
      } else if (wellformed) {
        tally.rejected++;
        report.rejected.push(`${rel}: ${err.message}`);
      }
    }
    const sanitizeCase = rel.split(path.sep).includes('sanitize');
    if (sanitizeCase && result) {
      const live = result.items.flatMap((item) => [item.summaryHtml, item.contentHtml].map(liveMarkup).filter((m): m is string => m !== undefined));
      if (live.length > 0) {
        tally.live++;
        report.liveMarkup.push(`${rel}: ${live[0]}`);
      }
    }
    if (!wellformed || sanitizeCase) continue;
    if (expect === undefined) {
      skip('no Expect line');
      continue;
    }
    const checks = checksOf(expect);
    if (typeof checks === 'string') {
      skip(checks);
      continue;
    }
    if (checks.length === 0) {
      skip('the expectation says nothing about a field (e.g. "not bozo")');
      continue;
    }
    const met = result !== undefined && checks.every((check) => meets(result, check));
    tally.evaluable++;
    if (met) tally.met++;
    for (const field of new Set(checks.map((c) => c.field))) {
      const counts = report.fields.get(field)!;
      counts.evaluable++;
      if (met) counts.met++;
    }
    if (!met) report.failures.push(`${rel}\n    expect: ${expect}\n    got:    ${result ? describe(result, checks) : 'rejected'}`);
  }
  return report;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function header(text: string): { expect: string | undefined; contentType: string | null } {
  const comment = /<!--([\s\S]*?)-->/.exec(text.slice(0, 4096))?.[1] ?? '';
  const expect = /^\s*Expect:\s*(.+)$/m.exec(comment)?.[1]?.trim();
  const contentType = /^\s*Header:\s*Content-type:\s*(.+)$/im.exec(comment)?.[1]?.trim() ?? null;
  return { expect, contentType };
}

// ---- Expectations: a small reader of the Python expressions the corpus uses ----

type Value = string | number | boolean | null | Value[];
type Node =
  | { k: 'name'; name: string }
  | { k: 'lit'; value: Value }
  | { k: 'index'; of: Node; key: Node }
  | { k: 'attr'; of: Node; name: string }
  | { k: 'call'; of: Node; args: Node[] }
  | { k: 'tuple'; items: Node[] }
  | { k: 'dict' }
  | { k: 'add'; items: Node[] }
  | { k: 'compare'; ops: string[]; operands: Node[] }
  | { k: 'and' | 'or'; items: Node[] }
  | { k: 'not'; of: Node };

interface Check {
  field: Field;
  /** Where: the feed, or an entry by index; key is the rest of the path ("content", 0, "value"). */
  entry: number | 'feed';
  key: (string | number)[];
  expected: Value;
}

const TOKEN = /\s*(?:([uUrRbB]{0,2})("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\d+\.\d+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|[()[\]{},:.+-]))/y;

function tokenize(source: string): { kind: 'str' | 'num' | 'name' | 'op'; text: string; raw?: boolean }[] {
  const tokens: { kind: 'str' | 'num' | 'name' | 'op'; text: string; raw?: boolean }[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(source);
    if (!m) throw new Error(`cannot read "${source.slice(at, at + 20)}"`);
    if (m[2] !== undefined) tokens.push({ kind: 'str', text: m[2], raw: /r/i.test(m[1] ?? '') });
    else if (m[3] !== undefined) tokens.push({ kind: 'num', text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'name', text: m[4] });
    else tokens.push({ kind: 'op', text: m[5]! });
  }
  return tokens;
}

function pythonString(token: string, raw: boolean): string {
  const quote = token.startsWith('"""') || token.startsWith("'''") ? 3 : 1;
  const body = token.slice(quote, -quote);
  if (raw) return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/gs, (_, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

function parseExpression(source: string): Node {
  const tokens = tokenize(source);
  let at = 0;
  const peek = (text?: string) => (text === undefined ? tokens[at] : tokens[at]?.text === text && tokens[at]!.kind !== 'str' ? tokens[at] : undefined);
  /** Consumes the token when it is this operator or keyword. */
  const accept = (text: string): boolean => {
    if (!peek(text)) return false;
    at++;
    return true;
  };
  const take = (text: string) => {
    if (!accept(text)) throw new Error(`expected ${text}`);
  };
  const list = (item: () => Node, separator: string): Node[] => {
    const items = [item()];
    while (accept(separator)) items.push(item());
    return items;
  };
  const or = (): Node => {
    const items = list(and, 'or');
    return items.length === 1 ? items[0]! : { k: 'or', items };
  };
  const and = (): Node => {
    const items = list(not, 'and');
    return items.length === 1 ? items[0]! : { k: 'and', items };
  };
  const not = (): Node => (accept('not') ? { k: 'not', of: not() } : compare());
  const compare = (): Node => {
    const operands = [sum()];
    const ops: string[] = [];
    for (;;) {
      const t = peek()?.text;
      if (t === '==' || t === '!=' || t === 'in') {
        at++;
        ops.push(t);
      } else if (accept('is')) ops.push(accept('not') ? 'is not' : 'is');
      else if (t === 'not' && tokens[at + 1]?.text === 'in') {
        at += 2;
        ops.push('not in');
      } else break;
      operands.push(sum());
    }
    return ops.length === 0 ? operands[0]! : { k: 'compare', ops, operands };
  };
  const sum = (): Node => {
    const items = list(postfix, '+');
    return items.length === 1 ? items[0]! : { k: 'add', items };
  };
  const postfix = (): Node => {
    let node = atom();
    for (;;) {
      if (accept('[')) {
        const key = or();
        take(']');
        node = { k: 'index', of: node, key };
      } else if (accept('.')) {
        node = { k: 'attr', of: node, name: tokens[at++]!.text };
      } else if (accept('(')) {
        const args = peek(')') ? [] : list(or, ',');
        take(')');
        node = { k: 'call', of: node, args };
      } else return node;
    }
  };
  const atom = (): Node => {
    const t = tokens[at++];
    if (!t) throw new Error('unexpected end');
    if (t.kind === 'str') {
      let value = pythonString(t.text, t.raw ?? false);
      while (tokens[at]?.kind === 'str') value += pythonString(tokens[at]!.text, tokens[at++]!.raw ?? false);
      return { k: 'lit', value };
    }
    if (t.kind === 'num') return { k: 'lit', value: Number(t.text) };
    if (t.text === '-') return { k: 'lit', value: -Number(tokens[at++]!.text) };
    if (t.text === 'None') return { k: 'lit', value: null };
    if (t.text === 'True' || t.text === 'False') return { k: 'lit', value: t.text === 'True' };
    if (t.text === '(') {
      const items = [or()];
      while (accept(',') && !peek(')')) items.push(or());
      take(')');
      return items.length === 1 && tokens[at - 2]?.text !== ',' ? items[0]! : { k: 'tuple', items };
    }
    if (t.text === '{') {
      // A dict literal: compared with nothing newsloom keeps, so only skipped over.
      for (let depth = 1; depth > 0 && at < tokens.length; at++) depth += tokens[at]!.text === '{' ? 1 : tokens[at]!.text === '}' ? -1 : 0;
      return { k: 'dict' };
    }
    if (t.kind === 'name') return { k: 'name', name: t.text };
    throw new Error(`unexpected ${t.text}`);
  };
  const node = or();
  if (at < tokens.length) throw new Error(`unexpected ${tokens[at]!.text}`);
  return node;
}

function constant(node: Node): Value | undefined {
  if (node.k === 'lit') return node.value;
  if (node.k === 'tuple') {
    const items = node.items.map(constant);
    return items.every((v) => v !== undefined) ? (items) : undefined;
  }
  if (node.k === 'add') {
    const items = node.items.map(constant);
    return items.every((v) => typeof v === 'string') ? items.join('') : undefined;
  }
  return undefined;
}

/** entries[0]['title'] → ['entries', 0, 'title']; undefined when the node is not such a path. */
function pathOf(node: Node): (string | number)[] | undefined {
  if (node.k === 'name') return [node.name];
  if (node.k === 'attr') {
    const of = pathOf(node.of);
    return of ? [...of, node.name] : undefined;
  }
  if (node.k === 'index') {
    const of = pathOf(node.of);
    const key = constant(node.key);
    return of && (typeof key === 'string' || typeof key === 'number') ? [...of, key] : undefined;
  }
  return undefined;
}

/** Which field of ours a feedparser key is, by where it sits; undefined for what newsloom does not keep. */
function fieldOf(entry: number | 'feed', key: (string | number)[]): Field | undefined {
  const k = key.join('.');
  if (entry === 'feed') return k === 'title' || k === 'title_detail.value' ? 'title' : k === 'link' ? 'link' : undefined;
  if (k === 'title' || k === 'title_detail.value') return 'title';
  if (k === 'link') return 'link';
  if (k === 'id' || k === 'guid') return 'id';
  if (k === 'summary' || k === 'description' || k === 'summary_detail.value') return 'summary';
  if (k === 'content.0.value') return 'content';
  if (k === 'author' || k === 'author_detail.name') return 'author';
  if (/^tags\.\d+\.term$/.test(k) || k === 'category') return 'categories';
  if (k === 'published_parsed' || k === 'updated_parsed') return 'dates';
  return undefined;
}

/** The checks an expectation makes, or why it cannot be evaluated. */
function checksOf(expect: string): Check[] | string {
  let node: Node;
  try {
    node = parseExpression(expect);
  } catch {
    return 'an expression the script does not read';
  }
  const terms = node.k === 'and' ? node.items : [node];
  const checks: Check[] = [];
  for (const term of terms) {
    if ((term.k === 'not' && term.of.k === 'name' && term.of.name === 'bozo') || (term.k === 'lit' && term.value)) continue;
    if (term.k !== 'compare' || term.ops.some((op) => op !== '==')) return 'a test other than == (is None, len(), in, …)';
    const expected = term.operands.map(constant).find((v) => v !== undefined);
    if (expected === undefined) return 'a comparison with no literal';
    for (const operand of term.operands) {
      if (constant(operand) !== undefined) continue;
      const p = pathOf(operand);
      if (!p) return 'a comparison with no literal';
      const [root, index, ...key] = p;
      const entry = root === 'entries' && typeof index === 'number' ? index : root === 'feed' ? 'feed' : undefined;
      const rest = entry === 'feed' ? [index!, ...key] : key;
      const field = entry === undefined ? undefined : fieldOf(entry, rest);
      if (entry === undefined || !field) return `field:${entry === undefined ? root : `${root}.${rest.join('.')}`}`.replace(/\.\d+(\.|$)/g, '[]$1');
      checks.push({ field, entry, key: rest, expected });
    }
  }
  return checks;
}

function ourValue(read: Read, check: Check): string | string[] | number | null | undefined {
  if (check.entry === 'feed') return check.field === 'title' ? read.title : read.siteUrl;
  const item = read.items[check.entry];
  if (!item) return undefined;
  switch (check.field) {
    case 'title': return item.title;
    case 'link': return item.url;
    case 'id': return item.guid;
    case 'summary': return item.summaryHtml;
    case 'content': return item.contentHtml;
    case 'author': return item.author;
    case 'categories': return check.key[0] === 'category' ? item.categories[0] : item.categories[Number(check.key[1])];
    case 'dates': return check.key[0] === 'published_parsed' ? item.publishedAt : (item.updatedAt ?? item.publishedAt);
  }
}

function meets(read: Read, check: Check): boolean {
  const ours = ourValue(read, check);
  const expected = check.expected;
  if (ours === undefined || ours === null) return false;
  if (check.field === 'dates') {
    if (!Array.isArray(expected) || typeof ours !== 'number') return false;
    const d = new Date(ours);
    const parts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    return parts.every((v, i) => v === expected[i]);
  }
  if (typeof expected !== 'string' || typeof ours !== 'string') return false;
  const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
  switch (check.field) {
    case 'title':
    case 'author':
    case 'categories':
      return collapse(ours) === collapse(expected) || collapse(ours) === htmlToText(expected);
    case 'link':
      return ours === expected || ours === urlForm(expected);
    case 'id':
      return ours === expected.trim();
    case 'summary':
    case 'content':
      return /<[a-z][^>]*>|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i.test(expected) ? htmlForm(ours) === htmlForm(expected) : htmlToText(ours) === collapse(expected);
  }
}

function urlForm(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Tags, sorted attributes and collapsed text: HTML that a reader shows alike compares equal. */
function htmlForm(html: string): string {
  // One paragraph around everything is how plain text is stored, not markup of the source's.
  const paragraph = /^\s*<p>([\s\S]*)<\/p>\s*$/.exec(html);
  if (paragraph && !/<\/?p[\s>]/i.test(paragraph[1]!)) html = paragraph[1]!;
  let out = '';
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const attrs = Object.entries(attribs).filter(([k]) => !(name === 'a' && k === 'rel')).sort(([a], [b]) => a.localeCompare(b));
        out += `<${name}${attrs.map(([k, v]) => ` ${k}="${v}"`).join('')}>`;
      },
      ontext(text) {
        out += text;
      },
      onclosetag(name, implied) {
        if (!implied) out += `</${name}>`;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return out.replace(/\s+/g, ' ').replace(/> </g, '><').trim();
}

function describe(read: Read, checks: Check[]): string {
  return checks.map((c) => `${c.entry === 'feed' ? 'feed' : `entries[${c.entry}]`}.${c.key.join('.')} = ${JSON.stringify(ourValue(read, c))?.slice(0, 300)}`).join('; ');
}

const LIVE_TAGS = new Set(['script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button', 'textarea', 'select', 'base', 'link', 'meta', 'svg', 'math', 'noscript', 'template']);
const URL_ATTRS = new Set(['href', 'src', 'srcset', 'action', 'formaction', 'poster', 'background', 'cite', 'data', 'xlink:href', 'dynsrc', 'lowsrc']);
const RASTER = /^data:image\/(?:png|gif|jpeg|jpg|webp|avif|bmp);/i;

/** What in sanitized HTML could run or load something unasked: a live element, a handler, a style, a script URL. */
export function liveMarkup(html: string): string | undefined {
  let found: string | undefined;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (found) return;
        if (LIVE_TAGS.has(name)) found = `<${name}>`;
        for (const [key, raw] of Object.entries(attribs)) {
          // eslint-disable-next-line no-control-regex
          const value = raw.replace(/[\u0000-\u0020]/g, '');
          if (key.startsWith('on') || key === 'style') found ??= `${name}@${key}`;
          else if (URL_ATTRS.has(key) && /(?:^|,)(?:javascript|vbscript|data|livescript):/i.test(value) && !(name === 'img' && key === 'src' && RASTER.test(value))) found ??= `${name}@${key}=${value.slice(0, 40)}`;
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return found;
}

export function printReport(report: CorpusReport, options: { failures: boolean }): void {
  const pct = (met: number, of: number) => (of === 0 ? '' : `${((100 * met) / of).toFixed(1)} %`);
  const sum = (pick: (t: Tally) => number, filter: (folder: string) => boolean = () => true) =>
    [...report.folders].filter(([f]) => filter(f)).reduce((n, [, t]) => n + pick(t), 0);
  console.log(`${'folder'.padEnd(28)} ${'files'.padStart(6)} ${'except.'.padStart(8)} ${'rejected'.padStart(9)} ${'cases'.padStart(6)} ${'met'.padStart(6)} ${''.padStart(8)} ${'live'.padStart(5)}`);
  for (const [folder, t] of [...report.folders].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${folder.padEnd(28)} ${String(t.files).padStart(6)} ${String(t.exceptions).padStart(8)} ${String(t.rejected).padStart(9)} ${String(t.evaluable).padStart(6)} ${String(t.met).padStart(6)} ${pct(t.met, t.evaluable).padStart(8)} ${String(t.live).padStart(5)}`);
  }
  console.log('\nper field (a case counts under each field it checks)');
  for (const [field, c] of report.fields) console.log(`  ${field.padEnd(12)} ${String(c.met).padStart(5)} of ${String(c.evaluable).padStart(4)}  ${pct(c.met, c.evaluable)}`);
  console.log('\nnot evaluated (wellformed files outside sanitize/)');
  // One line for all the fields newsloom does not keep, the commonest named.
  const notKept = [...report.notEvaluable].filter(([why]) => why.startsWith('field:')).sort((a, b) => b[1] - a[1]);
  const others = [...report.notEvaluable].filter(([why]) => !why.startsWith('field:')).sort((a, b) => b[1] - a[1]);
  const total = (rows: [string, number][]) => rows.reduce((n, [, count]) => n + count, 0);
  console.log(`  ${String(total(notKept)).padStart(5)}  a field newsloom does not keep: ${notKept.slice(0, 12).map(([why, n]) => `${why.slice(6)} ${n}`).join(', ')}, …`);
  for (const [why, n] of others) console.log(`  ${String(n).padStart(5)}  ${why}`);
  if (report.skipped) console.log(`  ${String(report.skipped).padStart(5)}  files not named .xml (JSON Feed is not the feed kind's)`);
  const evaluable = sum((t) => t.evaluable);
  const met = sum((t) => t.met);
  const exceptions = sum((t) => t.exceptions);
  const rejected = sum((t) => t.rejected);
  const live = sum((t) => t.live);
  const sanitizeFiles = sum((t) => t.files, (f) => f.includes('sanitize'));
  console.log('\ntotals');
  console.log(`  exceptions                         ${String(exceptions).padStart(5)}   target 0: ${exceptions === 0 ? 'met' : 'MISSED'}`);
  console.log(`  wellformed feeds rejected          ${String(rejected).padStart(5)}   target ≤ 30: ${rejected <= 30 ? 'met' : 'MISSED'}`);
  console.log(`  cases met (wellformed, outside sanitize/) ${met} of ${evaluable}, ${pct(met, evaluable)}   target ≥ 80 %: ${met >= 0.8 * evaluable ? 'met' : 'MISSED'}`);
  console.log(`  sanitize cases with live markup    ${String(live).padStart(5)} of ${sanitizeFiles}   target 0: ${live === 0 ? 'met' : 'MISSED'}`);
  const list = (title: string, lines: string[]) => lines.length && console.log(`\n${title}\n${lines.map((l) => `  ${l}`).join('\n')}`);
  list('exceptions', report.exceptions);
  list('wellformed feeds rejected', report.rejected);
  list('live markup', report.liveMarkup);
  if (options.failures) list('cases not met', report.failures);
}

if (import.meta.filename === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { failures: { type: 'boolean', default: false } } });
  const dir = positionals[0];
  if (!dir) {
    console.error('usage: npm run corpus -- DIR [--failures]');
    process.exit(2);
  }
  printReport(await runCorpus(path.resolve(dir)), { failures: values.failures });
}
