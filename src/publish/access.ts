// Who may read the operators' pages (/metrics, /status): everyone, unless server.ops_auth asks for a bearer
// token or basic-auth credentials. Compared in constant time, so that timing tells nothing of the secret.
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Config } from '../config/schema.ts';

export const PROTECTED_PATHS = new Set(['/metrics', '/status']);

/** Whether the request may have what it asks for. */
export function allowed(config: Config, req: http.IncomingMessage): boolean {
  const auth = config.server.ops_auth;
  if (!auth || !PROTECTED_PATHS.has((req.url ?? '/').split('?')[0]!)) return true;
  const given = req.headers.authorization ?? '';
  if (auth.token !== undefined) return same(given, `Bearer ${auth.token}`);
  return same(given, `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`);
}

/** The answer to a request that is not allowed: 401 with the scheme to use. */
export function deny(config: Config, res: http.ServerResponse): void {
  const scheme = config.server.ops_auth?.token !== undefined ? 'Bearer' : 'Basic realm="newsloom", charset="UTF-8"';
  const body = 'credentials required (server.ops_auth)\n';
  res.writeHead(401, { 'www-authenticate': scheme, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
