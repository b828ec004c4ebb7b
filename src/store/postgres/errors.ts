// PostgreSQL failures by what they mean to newsloom: the storage itself (a full disk, a read-only server) in words an
// operator can act on, a lost connection (the pool reconnects; a write that was wholly rolled back can be tried again),
// and a deadlock between writers (one of them was rolled back, and can be tried again).

/** SQLSTATE codes (class and code) that are about the storage. */
const STORAGE_ERRORS: [RegExp, string][] = [
  [/^53100$/, 'the disk holding the PostgreSQL database is full'],
  [/^53200$/, 'the PostgreSQL server is out of memory'],
  [/^53300$/, 'the PostgreSQL server has no connection left (raise max_connections or lower storage.pool)'],
  [/^25006$/, 'the PostgreSQL database is read-only (a standby, or default_transaction_read_only): point storage.url at the primary'],
  [/^58/, 'the PostgreSQL server failed to read or write its files'],
  [/^XX001|^XX002$/, 'the PostgreSQL database is damaged (restore a backup)'],
];

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A sentence for an operator when the error is a storage failure, else undefined. */
export function storageProblem(err: unknown): string | undefined {
  const code = codeOf(err);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const known = STORAGE_ERRORS.find(([pattern]) => pattern.test(code));
  return known && `${known[1]} (SQLSTATE ${code})`;
}

/**
 * The connection to the server failed or was lost: refused, reset, timed out, or the server shutting down or not yet
 * taking connections (57P01–57P03, class 08).
 */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && (CONNECTION_CODES.has(code) || /^08|^57P0[123]$/.test(code))) return true;
  const message = (err as Error | null)?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/** The server rolled this writer back so that another could go on (deadlock, serialization failure). */
export function isDeadlock(err: unknown): boolean {
  const code = codeOf(err);
  return code === '40P01' || code === '40001';
}
