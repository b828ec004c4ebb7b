// The request headers of a source: its configured headers plus its credentials, if it has any.
import type { SourceConfig } from '../config/schema.ts';

export function sourceHeaders(source: Pick<SourceConfig, 'headers' | 'auth'>): Record<string, string> {
  if (!source.auth) return source.headers;
  const credentials = Buffer.from(`${source.auth.username}:${source.auth.password}`, 'utf8').toString('base64');
  return { ...source.headers, Authorization: `Basic ${credentials}` };
}
