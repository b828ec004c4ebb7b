// HTTP GET for sources: conditional requests, manual redirects, and limits on time and size
// enforced while streaming (on the bytes received and again on the decompressed bytes).
import http from 'node:http';
import https from 'node:https';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { formatDuration } from '../config/units.ts';
import type { HostLimiter } from './hosts.ts';

export type FetchErrorKind =
  | 'invalid-url'
  | 'dns'
  | 'connect'
  | 'tls'
  | 'timeout'
  | 'http'
  | 'gone'
  | 'blocked'
  | 'rate-limited'
  | 'too-large'
  | 'redirect'
  | 'network';

export class FetchError extends Error {
  readonly kind: FetchErrorKind;
  readonly status: number | undefined;
  readonly headers: http.IncomingHttpHeaders | undefined;
  /** The start of an error page's body, kept for diagnosis (bot protection, a moved feed…). */
  readonly body: string | undefined;
  /** When the site asked us to come back (Retry-After), epoch ms. */
  readonly retryAt: number | undefined;
  constructor(
    kind: FetchErrorKind,
    message: string,
    extra: { status?: number; headers?: http.IncomingHttpHeaders; body?: string; retryAt?: number | undefined } = {},
  ) {
    super(message);
    this.name = 'FetchError';
    this.kind = kind;
    this.status = extra.status;
    this.headers = extra.headers;
    this.body = extra.body;
    this.retryAt = extra.retryAt;
  }
}

export interface FetchOptions {
  userAgent: string;
  /** Total time for the fetch, redirects and body included; counted from the first request sent. */
  timeoutMs: number;
  /** Time from sending a request to receiving its response headers (connect and first byte). */
  connectTimeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  accept?: string;
  headers?: Record<string, string>;
  etag?: string | null;
  lastModified?: string | null;
  signal?: AbortSignal | undefined;
  /** Per-host politeness shared by every fetch of the process; without it requests go out at once. */
  hosts?: HostLimiter | undefined;
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
  /** Cache-Control max-age: how long the site says this answer stays fresh. */
  maxAgeMs: number | null;
  headers: http.IncomingHttpHeaders;
  redirects: { status: number; from: string; to: string }[];
}

export const FEED_ACCEPT = 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';
const ERROR_BODY_BYTES = 64 * 1024;
/** The longest a site's Retry-After is believed: the same cap as error backoff. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

type Protocol = 'http:' | 'https:';
const PROTOCOLS = new Set(['http:', 'https:']);
let agents: Record<Protocol, http.Agent> | undefined;

/**
 * The agent of a protocol. The host limiter decides how many sockets one host gets, so the agents themselves do not
 * queue. Requests go through the proxies of HTTP_PROXY and HTTPS_PROXY except to the hosts of NO_PROXY (Node's
 * proxyEnv, Node 24.5 and later), as the environment has them at the first request.
 */
function agentFor(protocol: Protocol): http.Agent {
  agents ??= {
    'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity, proxyEnv: process.env }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity, proxyEnv: process.env }),
  };
  return agents[protocol];
}

export async function fetchUrl(url: string, options: FetchOptions): Promise<FetchResponse> {
  const redirects: FetchResponse['redirects'] = [];
  // The clock starts when the first request goes out: waiting for a busy host is not the site's fault.
  let deadline: AbortSignal | undefined;
  let current = url;
  const origin = parseUrl(url).origin;
  for (;;) {
    const target = parseUrl(current);
    const release = await takeTurn(target, options);
    deadline ??= AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
    const context = { signal: deadline, host: target.host, timeoutMs: options.timeoutMs };
    try {
      // Credentials configured for the source go to the source's own origin only, never to where it redirects.
      const response = await request(target, target.origin === origin ? options : withoutCredentials(options), context);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && status !== 304 && location) {
        response.resume();
        current = nextHop(current, location, status, redirects, options.maxRedirects);
        continue;
      }
      const base = {
        status,
        url: current,
        contentType: header(response.headers['content-type']),
        etag: header(response.headers.etag),
        lastModified: header(response.headers['last-modified']),
        maxAgeMs: maxAge(header(response.headers['cache-control'])),
        headers: response.headers,
        redirects,
      };
      if (status === 304) {
        response.resume();
        return { ...base, notModified: true, body: Buffer.alloc(0) };
      }
      if (status < 200 || status >= 300) {
        const body = await readBody(response, ERROR_BODY_BYTES, context, true).catch(() => Buffer.alloc(0));
        const error = statusError(status, response.statusMessage, response.headers, body.toString('utf8'), target.host, Date.now());
        if (error.retryAt !== undefined) options.hosts?.block(target, error.retryAt);
        throw error;
      }
      const body = await readBody(response, options.maxBytes, context, false);
      return { ...base, notModified: false, body };
    } finally {
      release();
    }
  }
}

function parseUrl(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new FetchError('invalid-url', `"${url}" is not a URL`);
  }
  if (!PROTOCOLS.has(target.protocol)) throw new FetchError('invalid-url', `unsupported protocol ${target.protocol} in ${url}`);
  return target;
}

/** Waits until politeness lets a request to this host go out; fails at once while the host asked us to wait. */
async function takeTurn(target: URL, options: FetchOptions): Promise<() => void> {
  if (!options.hosts) return () => undefined;
  const grant = await options.hosts.acquire(target, options.signal).catch((err: unknown) => {
    throw classify(err as Error, { signal: options.signal, host: target.host, timeoutMs: options.timeoutMs });
  });
  if ('release' in grant) return grant.release;
  throw new FetchError('rate-limited', `${target.host} asked us to wait until ${formatTime(grant.blockedUntil)} (Retry-After); not asking it before then`, {
    retryAt: grant.blockedUntil,
  });
}

function nextHop(current: string, location: string, status: number, redirects: FetchResponse['redirects'], maxRedirects: number): string {
  let next: string;
  try {
    next = new URL(location, current).href;
  } catch {
    throw new FetchError('redirect', `HTTP ${status} to an invalid location "${location}"`, { status });
  }
  if (next === current || redirects.some((r) => r.from === next)) {
    throw new FetchError('redirect', `redirect loop: ${[...redirects.map((r) => r.from), current, next].join(' → ')}`, { status });
  }
  if (redirects.length >= maxRedirects) {
    throw new FetchError('redirect', `more than ${maxRedirects} redirects (last to ${next})`, { status });
  }
  redirects.push({ status, from: current, to: next });
  return next;
}

/** Where a feed has moved for good: the end of the 301/308 redirects it starts with, or null. */
export function permanentRedirect(response: FetchResponse): string | null {
  let moved: string | null = null;
  for (const hop of response.redirects) {
    if (hop.status !== 301 && hop.status !== 308) break;
    moved = hop.to;
  }
  return moved;
}

// Pages that anti-bot services answer with instead of the content (their challenge pages, not the
// ordinary pages of sites that merely use their CDN).
const BOT_PROTECTION: [RegExp, string][] = [
  [/cf-chl-|challenge-platform|<title>just a moment|attention required! \| cloudflare|cf-browser-verification/i, 'Cloudflare'],
  [/ddos-guard/i, 'DDoS-Guard'],
  [/qrator/i, 'Qrator'],
  [/servicepipe/i, 'ServicePipe'],
  [/variti|stormwall/i, 'Variti/StormWall'],
  [/incapsula incident|_incapsula_resource/i, 'Imperva'],
  [/reference #\d+\.[0-9a-f]+/i, 'Akamai'],
  [/datadome|perimeterx|px-captcha/i, 'a bot manager'],
  [/captcha|are you a (?:human|robot)|bot protection|checking your browser|enable javascript and cookies to continue/i, 'a CAPTCHA'],
];

/** The anti-bot service whose page this is, if it is one. */
export function botProtection(body: string): string | undefined {
  return BOT_PROTECTION.find(([pattern]) => pattern.test(body))?.[1];
}

/** The HTTP status policy, decided in one place: what each failing status means and what to do about it. */
export function statusError(status: number, statusMessage: string | undefined, headers: http.IncomingHttpHeaders, body: string, host: string, now: number): FetchError {
  const extra = { status, headers, body };
  const what = `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''} from ${host}`;
  if ((status === 403 || status === 503 || status === 429) && !/^\s*<\?xml/.test(body)) {
    const service = botProtection(body);
    if (service) {
      return new FetchError(
        'blocked',
        `${what}: blocked by bot protection (${service}); give this source a browser-like user_agent and an XML Accept header (as the default config does for TASS)`,
        extra,
      );
    }
  }
  if (status === 429 || status === 503) {
    const retryAt = retryAfter(header(headers['retry-after']), now);
    const when = retryAt === undefined ? 'backing off' : `retrying after ${formatTime(retryAt)}`;
    return new FetchError(status === 429 ? 'rate-limited' : 'http', `${what}: ${status === 429 ? 'too many requests' : 'service unavailable'}, ${when}`, { ...extra, retryAt });
  }
  if (status === 410) return new FetchError('gone', `${what}: the feed is gone for good; remove the source or find its new address`, extra);
  if (status === 404) return new FetchError('http', `${what}: no feed at this address; check the URL (has the feed moved?)`, extra);
  if (status === 401 || status === 403) return new FetchError('http', `${what}: access denied; the site may want credentials or other headers`, extra);
  if (status >= 500) return new FetchError('http', `${what}: the site has a server error; retrying with backoff`, extra);
  return new FetchError('http', what, extra);
}

/** Retry-After as epoch ms: seconds or an HTTP date, believed for at most a day. */
export function retryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const at = /^\d+$/.test(trimmed) ? now + Number(trimmed) * 1_000 : Date.parse(trimmed);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(at, now), now + MAX_RETRY_AFTER_MS);
}

function maxAge(cacheControl: string | null): number | null {
  const seconds = cacheControl ? /(?:^|[,\s])max-age\s*=\s*"?(\d+)/i.exec(cacheControl)?.[1] : undefined;
  return seconds === undefined ? null : Number(seconds) * 1_000;
}

function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

interface RequestContext {
  signal: AbortSignal | undefined;
  host: string;
  timeoutMs: number;
}

function request(target: URL, options: FetchOptions, context: RequestContext): Promise<http.IncomingMessage> {
  const headers: Record<string, string> = {
    'user-agent': options.userAgent,
    accept: options.accept ?? FEED_ACCEPT,
    'accept-encoding': 'gzip, deflate, br',
    ...lowerKeys(options.headers ?? {}),
  };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const client = target.protocol === 'https:' ? https : http;
  const agent = agentFor(target.protocol as Protocol);
  return new Promise((resolve, reject) => {
    const req = client.get(target, { agent, headers, signal: context.signal }, (response) => {
      clearTimeout(firstByte);
      resolve(response);
    });
    const firstByte = setTimeout(() => {
      req.destroy(new FetchError('timeout', `no answer from ${target.host} within ${formatDuration(options.connectTimeoutMs)} (connect and first byte)`));
    }, options.connectTimeoutMs);
    req.on('error', (err) => {
      clearTimeout(firstByte);
      reject(classify(err, context));
    });
  });
}

const CREDENTIALS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function withoutCredentials(options: FetchOptions): FetchOptions {
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter(([name]) => !CREDENTIALS.has(name.toLowerCase())));
  return { ...options, headers };
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Reads the body through its Content-Encoding, stopping as soon as either side passes the limit. */
async function readBody(response: http.IncomingMessage, maxBytes: number, context: RequestContext, truncate: boolean): Promise<Buffer> {
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
    await (pipeline as (...streams: unknown[]) => Promise<void>)(...stages, { signal: context.signal });
  } catch (err) {
    if (truncate && size === maxBytes) return Buffer.concat(chunks);
    throw classify(err as Error, context);
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
      return inflate();
    default:
      return null;
  }
}

/**
 * Content-Encoding: deflate is zlib-wrapped by the standard and raw deflate from many servers; the first two bytes
 * tell which (a zlib header names method 8 and is a multiple of 31).
 */
function inflate(): Transform {
  let inner: zlib.Inflate | zlib.InflateRaw | undefined;
  const outer = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (!inner) {
        const zlibHeader = chunk.length >= 2 && (chunk[0]! & 0x0f) === 8 && ((chunk[0]! << 8) | chunk[1]!) % 31 === 0;
        inner = zlibHeader ? zlib.createInflate() : zlib.createInflateRaw();
        inner.on('data', (data: Buffer) => outer.push(data));
        inner.on('error', (err) => outer.destroy(err));
      }
      inner.write(chunk, () => done());
    },
    flush(done) {
      if (!inner) return done();
      inner.once('end', () => done());
      inner.end();
    },
  });
  return outer;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** Turns a socket-level error into a FetchError a maintainer can act on. */
function classify(err: Error, { signal, host, timeoutMs }: RequestContext): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (signal?.aborted || err.name === 'AbortError' || code === 'ABORT_ERR') {
    const reason: unknown = signal?.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') return new FetchError('timeout', `the answer from ${host} took longer than ${formatDuration(timeoutMs)}`);
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

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
