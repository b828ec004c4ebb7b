// Escaping for the XML we write by hand: text and attribute values, with characters XML 1.0 forbids removed.
import { stripIllegalXmlChars } from '../text/xml.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Character data: "]]>" cannot survive either, since ">" is always escaped. */
export function xmlText(text: string): string {
  return stripIllegalXmlChars(text).replace(/[&<>]/g, (c) => ESCAPES[c]!);
}

/** A value for an attribute in double quotes; tabs and newlines kept as references, not normalized away. */
export function xmlAttr(text: string): string {
  return stripIllegalXmlChars(text).replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c] ?? `&#${c.charCodeAt(0)};`);
}

/** An element with text content, or nothing when the text is empty. */
export function element(name: string, text: string | null | undefined, attributes = ''): string {
  return text ? `<${name}${attributes}>${xmlText(text)}</${name}>` : '';
}
