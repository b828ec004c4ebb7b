// Writes a rendered resource as HTTP: validators (ETag, Last-Modified), 304 for a matching conditional
// request, Cache-Control, the compression the client asked for, and no body for HEAD.
import type http from 'node:http';
import { encode, type Encoding, type Rendered } from './cache.ts';

/** Smaller bodies gain nothing from compression. */
const MIN_COMPRESS = 512;

/**
 * Extra headers override the defaults, content-type included (the same bytes may be labelled differently). `compress`
 * makes (or finds) the compressed form: the render cache's, so that it counts the bytes it keeps.
 */
export function respond(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  resource: Rendered,
  maxAgeSeconds: number,
  extra: http.OutgoingHttpHeaders = {},
  compress: (resource: Rendered, encoding: Encoding) => Buffer = encode,
): void {
  const encoding = resource.body.length >= MIN_COMPRESS ? chooseEncoding(req.headers['accept-encoding']) : undefined;
  // Each encoding is different bytes, so it gets its own strong ETag; any of them validates.
  const etag = encoding ? `${resource.etag.slice(0, -1)}-${encoding}"` : resource.etag;
  const headers: http.OutgoingHttpHeaders = {
    etag,
    'last-modified': new Date(resource.lastModified).toUTCString(),
    'cache-control': `public, max-age=${maxAgeSeconds}`,
    vary: 'Accept-Encoding',
    ...extra,
  };
  if (notModified(req, resource)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = encoding ? compress(resource, encoding) : resource.body;
  res.writeHead(200, {
    'content-type': resource.type,
    ...headers,
    'content-length': body.length,
    ...(encoding ? { 'content-encoding': encoding } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** RFC 9110 13.1: If-None-Match wins over If-Modified-Since; weak comparison for If-None-Match. */
function notModified(req: http.IncomingMessage, resource: Rendered): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const base = resource.etag.slice(1, -1);
    return ifNoneMatch.split(',').some((tag) => {
      const t = tag.trim().replace(/^W\//, '');
      return t === '*' || t === `"${base}"` || t === `"${base}-br"` || t === `"${base}-gzip"`;
    });
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && resource.lastModified <= since;
  }
  return false;
}

/** The best encoding the client accepts (q > 0): brotli, then gzip; none when it names neither. */
export function chooseEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...options] = part.trim().toLowerCase().split(';');
    const q = options.map((o) => /^\s*q=([0-9.]+)\s*$/.exec(o)).find(Boolean);
    accepted.set(name!.trim(), q ? Number(q[1]) : 1);
  }
  const quality = (name: Encoding) => accepted.get(name) ?? accepted.get('*') ?? 0;
  if (quality('br') > 0) return 'br';
  if (quality('gzip') > 0) return 'gzip';
  return undefined;
}
