// Finds what must never reach a subscriber in a piece of HTML: active elements, event handlers, style,
// URLs that are not http(s)/mailto (or raster data: images), and players that start on their own or hide their
// controls (audio and video are kept only as players a reader starts). Used on sanitizer output, stored items
// and published feeds; tests first show that it flags every vector before sanitizing.
import { Parser } from 'htmlparser2';

const ACTIVE_TAGS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button', 'select', 'textarea',
  'svg', 'math', 'style', 'link', 'meta', 'base', 'template', 'noscript', 'animate', 'set', 'foreignobject',
]);
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite', 'action', 'formaction', 'poster', 'background', 'data', 'xlink:href', 'srcdoc', 'lowsrc', 'dynsrc']);
const SAFE_URL = /^(https?:|mailto:)/i;
const RASTER_DATA = /^data:image\/(png|gif|jpe?g|webp|avif|bmp);/i;

export function unsafeParts(html: string): string[] {
  const found: string[] = [];
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (ACTIVE_TAGS.has(name)) found.push(`<${name}>`);
        for (const [attr, value] of Object.entries(attribs)) {
          if (attr.startsWith('on')) found.push(`${name}[${attr}]`);
          else if (attr === 'style') found.push(`${name}[style]`);
          else if (attr === 'srcset') {
            for (const candidate of value.split(',')) checkUrl(name, attr, candidate.trim().split(/\s+/)[0] ?? '', found);
          } else if (URL_ATTRIBUTES.has(attr)) checkUrl(name, attr, value, found);
        }
        if (name === 'img' && isTiny(attribs.width) && isTiny(attribs.height)) found.push('tracking pixel');
        if ((name === 'audio' || name === 'video') && (attribs.controls === undefined || attribs.autoplay !== undefined)) found.push(`<${name}> that plays on its own`);
        if (name === 'meta' && /refresh/i.test(attribs['http-equiv'] ?? '')) found.push('meta refresh');
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return found;
}

function checkUrl(tag: string, attr: string, value: string, found: string[]): void {
  // What a browser would see: no whitespace or control characters inside the scheme.
  // eslint-disable-next-line no-control-regex
  const url = value.replace(/[\u0000-\u0020]/g, '');
  if (SAFE_URL.test(url) || (tag === 'img' && attr === 'src' && RASTER_DATA.test(url))) return;
  // A relative URL is harmless in itself, but sanitized output should have none left.
  found.push(`${tag}[${attr}=${value.slice(0, 40)}]`);
}

function isTiny(value: string | undefined): boolean {
  return value !== undefined && /^\s*[01](px)?\s*$/.test(value);
}
