// Every piece of HTML a source sends passes this allow-list before it is stored: no scripts, event
// handlers, javascript: URLs, iframes, forms or tracking pixels; relative URLs made absolute.
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'cite', 'code', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt',
  'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol',
  'p', 'picture', 'pre', 'q', 's', 'samp', 'small', 'source', 'span', 'strong', 'sub', 'summary', 'sup', 'table',
  'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'u', 'ul',
];

const URL_ATTRIBUTES: Record<string, string[]> = { a: ['href'], img: ['src'], source: ['src', 'srcset'], blockquote: ['cite'], q: ['cite'] };

/** Sanitizes source HTML; relative URLs resolve against baseUrl. */
export function sanitize(html: string, baseUrl?: string | null): string {
  if (!html) return '';
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      source: ['srcset', 'type', 'media'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan', 'scope'],
      time: ['datetime'],
      blockquote: ['cite'],
      q: ['cite'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'form'],
    exclusiveFilter: (frame) => frame.tag === 'img' && isTrackingPixel(frame.attribs),
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...absolutize(attribs, URL_ATTRIBUTES.a!, baseUrl), rel: 'noopener noreferrer' } }),
      img: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.img!, baseUrl) }),
      source: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.source!, baseUrl) }),
    },
  }).trim();
}

function absolutize(attribs: Record<string, string>, names: string[], baseUrl: string | null | undefined): Record<string, string> {
  if (!baseUrl) return attribs;
  const result = { ...attribs };
  for (const name of names) {
    const value = result[name];
    if (value === undefined || name === 'srcset') continue;
    try {
      result[name] = new URL(value.trim(), baseUrl).href;
    } catch {
      delete result[name];
    }
  }
  return result;
}

function isTrackingPixel(attribs: Record<string, string>): boolean {
  const tiny = (v: string | undefined) => v !== undefined && /^\s*[01](px)?\s*$/.test(v);
  return tiny(attribs.width) && tiny(attribs.height);
}
