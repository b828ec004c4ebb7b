// The public address feeds link to: server.base_url when set; else, behind a reverse proxy the config trusts
// (server.trust_proxy), the scheme, host and path prefix it forwarded; else the Host header of the request.
import type http from 'node:http';
import type { Config } from '../config/schema.ts';

// What a Host header may hold: a DNS name or IP literal and a port. Anything else never reaches a feed's links.
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,62}\.?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
// A path prefix of plain segments ("/news", "/a/b/"): nothing that could end the URL or start a query.
const PREFIX = /^(?:\/[\w.~%!$&'()*+,;=:@-]+)*\/?$/;

/** The base URL of a request without a trailing slash, or undefined when its Host header is missing or malformed. */
export function publicBaseUrl(config: Config, headers: http.IncomingHttpHeaders): string | undefined {
  const configured = config.server.base_url?.replace(/\/+$/, '');
  if (configured) return configured;
  const forwarded = config.server.trust_proxy ? forwardedParts(headers) : {};
  const host = forwarded.host ?? headers.host;
  if (!host || !HOST.test(host)) return undefined;
  return `${forwarded.proto ?? 'http'}://${host}${forwarded.prefix ?? ''}`;
}

/** The first (client-most) value of each X-Forwarded-* header that is well formed. */
function forwardedParts(headers: http.IncomingHttpHeaders): { proto?: string; host?: string; prefix?: string } {
  const first = (name: string) => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value)?.split(',')[0]!.trim() || undefined;
  };
  const proto = first('x-forwarded-proto')?.toLowerCase();
  const host = first('x-forwarded-host');
  const prefix = first('x-forwarded-prefix');
  return {
    proto: proto === 'http' || proto === 'https' ? proto : undefined,
    host: host && HOST.test(host) ? host : undefined,
    prefix: prefix && PREFIX.test(prefix) ? prefix.replace(/\/+$/, '') : undefined,
  };
}
