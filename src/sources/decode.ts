// Bytes to text: the charset comes from the byte-order mark, then the HTTP header, then the document's
// own declaration (XML prolog or HTML <meta>); bytes that are valid UTF-8 win over a declaration that
// says otherwise, and undeclared or wrongly declared legacy Russian text is recognised by its letters.

export interface Decoded {
  text: string;
  charset: string;
  /** Where the charset came from, for diagnosis. */
  from: 'bom' | 'utf-16 bytes' | 'header' | 'document' | 'utf-8 bytes' | 'guess' | 'default';
}

const BOMS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

const UTF16_STARTS: [number[], string][] = [
  [[0x3c, 0x00, 0x3f, 0x00], 'utf-16le'],
  [[0x00, 0x3c, 0x00, 0x3f], 'utf-16be'],
];

export function decode(body: Uint8Array, contentType: string | null, kind: 'xml' | 'html' = 'xml'): Decoded {
  for (const [bom, charset] of BOMS) {
    if (bom.every((byte, i) => body[i] === byte)) return { text: decodeAs(body.subarray(bom.length), charset), charset, from: 'bom' };
  }
  // "<?" in UTF-16 without a BOM (XML 1.0 appendix F): its zero bytes would pass for valid UTF-8.
  const utf16 = UTF16_STARTS.find(([start]) => start.every((byte, i) => body[i] === byte))?.[1];
  if (utf16) return { text: decodeAs(body, utf16), charset: utf16, from: 'utf-16 bytes' };
  const fromHeader = normalizeLabel(charsetOf(contentType));
  const declared = fromHeader ?? normalizeLabel(declaredCharset(body, kind));
  const from = fromHeader ? 'header' : 'document';
  if (declared?.startsWith('utf-16')) return { text: decodeAs(body, declared), charset: declared, from };
  const utf8 = asUtf8(body);
  if (utf8 !== undefined) return { text: utf8, charset: 'utf-8', from: declared && declared !== 'utf-8' ? 'utf-8 bytes' : declared ? from : 'default' };
  if (declared && declared !== 'utf-8') return { text: decodeAs(body, declared), charset: declared, from };
  const guessed = guessLegacy(body);
  return { text: decodeAs(body, guessed), charset: guessed, from: 'guess' };
}

function charsetOf(contentType: string | null): string | undefined {
  return contentType ? /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType)?.[1] : undefined;
}

function declaredCharset(body: Uint8Array, kind: 'xml' | 'html'): string | undefined {
  const head = Buffer.from(body.subarray(0, 4096)).toString('latin1');
  const prolog = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1];
  if (prolog || kind === 'xml') return prolog;
  return (
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1] ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset=([\w.:-]+)/i.exec(head)?.[1]
  );
}

/** The WHATWG name of a charset label, or undefined when the label is unknown. */
function normalizeLabel(label: string | undefined): string | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

function decodeAs(body: Uint8Array, charset: string): string {
  return new TextDecoder(charset).decode(body);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The text when the bytes are valid UTF-8, else undefined. */
function asUtf8(body: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

const CYRILLIC_CHARSETS = ['windows-1251', 'koi8-r', 'iso-8859-5'];
const COMMON_RUSSIAN = /[оеаинтсрвл]/g;

/**
 * Picks the legacy charset under which the text reads most like Russian (the most frequent
 * lowercase Russian letters appear most often); text with no Cyrillic to speak of is windows-1252.
 */
function guessLegacy(body: Uint8Array): string {
  const sample = body.subarray(0, 64 * 1024);
  let best = 'windows-1252';
  let bestScore = 8;
  for (const charset of CYRILLIC_CHARSETS) {
    const score = new TextDecoder(charset).decode(sample).match(COMMON_RUSSIAN)?.length ?? 0;
    if (score > bestScore) [best, bestScore] = [charset, score];
  }
  return best;
}
