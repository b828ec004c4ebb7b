// HTTP GET for sources: conditional requests, manual redirects, and limits on time and size
// enforced while streaming (on the bytes received and again on the decompressed bytes).
import http from 'node:http';
import https from 'node:https';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

export type FetchErrorKind = 'invalid-url' | 'dns' | 'connect' | 'tls' | 'timeout' | 'http' | 'too-large' | 'redirect' | 'network';

export class FetchError extends Error {
  readonly kind: FetchErrorKind;
  readonly status: number | undefined;
  readonly headers: http.IncomingHttpHeaders | undefined;
  /** The start of an error page's body, kept for diagnosis (bot protection, a moved feed…). */
  readonly body: string | undefined;
  constructor(kind: FetchErrorKind, message: string, extra: { status?: number; headers?: http.IncomingHttpHeaders; body?: string } = {}) {
    super(message);
    this.name = 'FetchError';
    this.kind = kind;
    this.status = extra.status;
    this.headers = extra.headers;
    this.body = extra.body;
  }
}

export interface FetchOptions {
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  accept?: string;
  headers?: Record<string, string>;
  etag?: string | null;
  lastModified?: string | null;
  signal?: AbortSignal;
}

export interface FetchResponse {
  notModified: boolean;
  status: number;
  /** The URL after redirects. */
  url: string;
  body: Buffer;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  headers: http.IncomingHttpHeaders;
  redirects: { status: number; from: string; to: string }[];
}

export const FEED_ACCEPT = 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';
const ERROR_BODY_BYTES = 64 * 1024;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 4 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 4 }),
};

export async function fetchUrl(url: string, options: FetchOptions): Promise<FetchResponse> {
  const deadline = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
  const redirects: FetchResponse['redirects'] = [];
  let current = url;
  for (;;) {
    const response = await request(current, options, deadline);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location) {
      response.resume();
      let next: string;
      try {
        next = new URL(location, current).href;
      } catch {
        throw new FetchError('redirect', `HTTP ${status} to an invalid location "${location}"`, { status });
      }
      if (next === current || redirects.some((r) => r.from === next)) {
        throw new FetchError('redirect', `redirect loop: ${current} → ${next}`, { status });
      }
      if (redirects.length >= options.maxRedirects) {
        throw new FetchError('redirect', `more than ${options.maxRedirects} redirects (last to ${next})`, { status });
      }
      redirects.push({ status, from: current, to: next });
      current = next;
      continue;
    }
    const base = {
      status,
      url: current,
      contentType: header(response.headers['content-type']),
      etag: header(response.headers.etag),
      lastModified: header(response.headers['last-modified']),
      headers: response.headers,
      redirects,
    };
    if (status === 304) {
      response.resume();
      return { ...base, notModified: true, body: Buffer.alloc(0) };
    }
    if (status < 200 || status >= 300) {
      const body = await readBody(response, ERROR_BODY_BYTES, deadline, true).catch(() => Buffer.alloc(0));
      throw new FetchError('http', `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, {
        status,
        headers: response.headers,
        body: body.toString('utf8'),
      });
    }
    const body = await readBody(response, options.maxBytes, deadline, false);
    return { ...base, notModified: false, body };
  }
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function request(url: string, options: FetchOptions, signal: AbortSignal): Promise<http.IncomingMessage> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new FetchError('invalid-url', `"${url}" is not a URL`));
  }
  const agent = agents[target.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new FetchError('invalid-url', `unsupported protocol ${target.protocol} in ${url}`));
  const headers: Record<string, string> = {
    'user-agent': options.userAgent,
    accept: options.accept ?? FEED_ACCEPT,
    'accept-encoding': 'gzip, deflate, br',
    ...lowerKeys(options.headers ?? {}),
  };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(target, { agent, headers, signal }, resolve);
    req.on('error', (err) => reject(classify(err, signal, url)));
  });
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Reads the body through its Content-Encoding, stopping as soon as either side passes the limit. */
async function readBody(response: http.IncomingMessage, maxBytes: number, signal: AbortSignal, truncate: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const limit = (what: string) => {
    let seen = 0;
    return new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > maxBytes) done(new FetchError('too-large', `${what} is larger than ${formatBytes(maxBytes)}`));
        else done(null, chunk);
      },
    });
  };
  const collect = new Writable({
    write(chunk: Buffer, _enc, done) {
      const room = maxBytes - size;
      if (chunk.length > room) {
        if (!truncate) return done(new FetchError('too-large', `the body is larger than ${formatBytes(maxBytes)}`));
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        response.destroy();
        return done();
      }
      chunks.push(chunk);
      size += chunk.length;
      done();
    },
  });
  const decoder = decompressor(header(response.headers['content-encoding']));
  const stages: (Readable | Transform | Writable)[] = decoder
    ? [response, limit('the compressed body'), decoder, limit('the decompressed body'), collect]
    : [response, collect];
  try {
    await (pipeline as (...streams: unknown[]) => Promise<void>)(...stages, { signal });
  } catch (err) {
    if (truncate && size === maxBytes) return Buffer.concat(chunks);
    if (err instanceof FetchError) throw err;
    throw classify(err as Error, signal, response.url ?? '');
  }
  return Buffer.concat(chunks);
}

function decompressor(encoding: string | null): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'deflate':
      return zlib.createInflate();
    default:
      return null;
  }
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** Turns a socket-level error into a FetchError a maintainer can act on. */
function classify(err: Error, signal: AbortSignal, url: string): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = safeHost(url);
  if (signal.aborted || err.name === 'AbortError' || code === 'ABORT_ERR') {
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') return new FetchError('timeout', `no complete answer from ${host} in time`);
    return new FetchError('timeout', `fetch from ${host} was cancelled`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return new FetchError('dns', `cannot resolve host ${host} (${code})`);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') {
    return new FetchError('connect', `cannot connect to ${host} (${code})`);
  }
  if (TLS_CODES.test(code)) return new FetchError('tls', `TLS error from ${host}: ${err.message}`);
  if (code.startsWith('Z_') || code === 'ERR_BROTLI') return new FetchError('network', `the compressed body from ${host} is corrupt (${code})`);
  return new FetchError('network', `${host}: ${err.message}${code ? ` (${code})` : ''}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
