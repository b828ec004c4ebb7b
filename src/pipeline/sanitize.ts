// Every piece of HTML a source sends passes this allow-list before it is stored: no scripts, event
// handlers, styles, javascript: URLs, iframes, forms or tracking pixels; relative URLs made absolute. What readers
// show is kept: tables, figures, pictures, audio and video players with http(s) sources.
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = [
  'a', 'abbr', 'audio', 'b', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd', 'del', 'details', 'dfn',
  'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li',
  'mark', 'ol', 'p', 'picture', 'pre', 'q', 's', 'samp', 'small', 'source', 'span', 'strong', 'sub', 'summary', 'sup',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'track', 'u', 'ul', 'video',
];

const URL_ATTRIBUTES: Record<string, string[]> = {
  a: ['href'],
  img: ['src'],
  source: ['src', 'srcset'],
  audio: ['src'],
  video: ['src', 'poster'],
  track: ['src'],
  blockquote: ['cite'],
  q: ['cite'],
};

/** Images inlined as data: URLs are kept only in raster formats: an SVG or HTML document is not an image we can trust. */
const RASTER_DATA_URL = /^data:image\/(?:png|gif|jpeg|jpg|webp|avif|bmp);/i;

/** Sanitizes source HTML; relative URLs resolve against baseUrl. */
export function sanitize(html: string, baseUrl?: string | null): string {
  if (!html) return '';
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      '*': ['title', 'lang', 'dir'],
      a: ['href', 'rel'],
      img: ['src', 'alt', 'width', 'height'],
      source: ['src', 'srcset', 'type', 'media', 'sizes'],
      // Players show their controls and never start on their own: no autoplay.
      audio: ['src', 'controls', 'preload', 'loop', 'muted'],
      video: ['src', 'controls', 'poster', 'width', 'height', 'preload', 'loop', 'muted', 'playsinline'],
      track: ['src', 'kind', 'srclang', 'label', 'default'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan', 'scope'],
      col: ['span'],
      colgroup: ['span'],
      time: ['datetime'],
      blockquote: ['cite'],
      q: ['cite'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'poster'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    selfClosing: ['img', 'br', 'hr', 'source', 'track', 'col'],
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'form'],
    // Runs after the attribute checks, so an image whose only source was unsafe has no src left.
    exclusiveFilter: (frame) => frame.tag === 'img' && (!frame.attribs.src || isTrackingPixel(frame.attribs)),
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...absolutize(attribs, URL_ATTRIBUTES.a!, baseUrl), rel: 'noopener noreferrer' } }),
      img: (tagName, attribs) => ({ tagName, attribs: withoutUnsafeDataUrl(absolutize(attribs, URL_ATTRIBUTES.img!, baseUrl)) }),
      source: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.source!, baseUrl) }),
      audio: (tagName, attribs) => ({ tagName, attribs: { ...absolutize(attribs, URL_ATTRIBUTES.audio!, baseUrl), controls: '' } }),
      video: (tagName, attribs) => ({ tagName, attribs: { ...absolutize(attribs, URL_ATTRIBUTES.video!, baseUrl), controls: '' } }),
      track: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.track!, baseUrl) }),
      blockquote: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.blockquote!, baseUrl) }),
      q: (tagName, attribs) => ({ tagName, attribs: absolutize(attribs, URL_ATTRIBUTES.q!, baseUrl) }),
    },
  }).trim();
}

function absolutize(attribs: Record<string, string>, names: string[], baseUrl: string | null | undefined): Record<string, string> {
  if (!baseUrl) return attribs;
  const result = { ...attribs };
  for (const name of names) {
    const value = result[name];
    if (value === undefined) continue;
    const resolved = name === 'srcset' ? resolveSrcset(value, baseUrl) : resolve(value, baseUrl);
    if (resolved === undefined) delete result[name];
    else result[name] = resolved;
  }
  return result;
}

function resolve(url: string, baseUrl: string): string | undefined {
  // data: URLs are left to the scheme checks; resolving them would only re-encode them.
  if (/^\s*data:/i.test(url)) return url.trim();
  try {
    return new URL(url.trim(), baseUrl).href;
  } catch {
    return undefined;
  }
}

/** "a.jpg 1x, /b.jpg 2x" with each candidate's URL made absolute; sanitize-html then checks each URL's scheme. */
function resolveSrcset(srcset: string, baseUrl: string): string {
  return srcset
    .split(/,\s+/)
    .map((candidate) => {
      const [url = '', ...descriptors] = candidate.trim().split(/\s+/);
      return [resolve(url, baseUrl) ?? url, ...descriptors].join(' ');
    })
    .join(', ');
}

function withoutUnsafeDataUrl(attribs: Record<string, string>): Record<string, string> {
  // Browsers ignore whitespace and control characters inside a scheme ("da\tta:"), so the check does too.
  // eslint-disable-next-line no-control-regex
  const src = attribs.src?.replace(/[\u0000-\u0020]/g, '');
  if (src === undefined || !/^data:/i.test(src) || RASTER_DATA_URL.test(src)) return attribs;
  const rest = { ...attribs };
  delete rest.src;
  return rest;
}

function isTrackingPixel(attribs: Record<string, string>): boolean {
  const tiny = (v: string | undefined) => v !== undefined && /^\s*[01](px)?\s*$/.test(v);
  return tiny(attribs.width) && tiny(attribs.height);
}
