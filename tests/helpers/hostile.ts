// Misbehaving servers for fixture routes: silent, trickling, endless, gzip bombs; and text encoders
// for the legacy charsets Node can decode but not encode.
import type http from 'node:http';
import zlib from 'node:zlib';
import type { FixtureRoute } from './fixture-server.ts';

/** Accepts the request and never answers. */
export function silent(): FixtureRoute {
  return { handler: () => undefined };
}

/** Sends the headers at once, then one byte of the body per interval, forever. */
export function trickle(intervalMs = 1_000): FixtureRoute {
  return {
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).flushHeaders();
      const body = '<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>';
      let sent = 0;
      const timer = setInterval(() => res.write(body[sent++ % body.length]), intervalMs);
      res.on('close', () => clearInterval(timer));
    },
  };
}

export interface Stream {
  route: FixtureRoute;
  /** Bytes the server wrote before the client hung up. */
  sent(): number;
  /** Bytes it would have written to a client that reads everything. */
  limit: number;
}

/** Writes `chunk` again and again, as fast as the client reads, until the client hangs up or `limit` bytes went out. */
export function endless(chunk: Buffer, headers: Record<string, string>, limit: number): Stream {
  let sent = 0;
  const route: FixtureRoute = {
    handler: (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml', ...headers });
      let closed = false;
      res.on('close', () => (closed = true));
      const pump = () => {
        while (!closed && sent < limit) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!closed) res.end();
      };
      pump();
    },
  };
  return { route, sent: () => sent, limit };
}

/** A gzip stream of `total` zero bytes made of concatenated gzip members (a valid gzip stream), sent endlessly. */
export function gzipBomb(total: number): Stream & { decompressedSize: number } {
  const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  const members = Math.ceil(total / (16 * 1024 * 1024));
  return { ...endless(member, { 'content-encoding': 'gzip' }, member.length * members), decompressedSize: members * 16 * 1024 * 1024 };
}

/** Encodes text in a charset that Node decodes: single-byte tables are read back from TextDecoder. */
export function encode(text: string, charset: string): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8');
  if (charset === 'utf-16le') return Buffer.from(text, 'utf16le');
  if (charset === 'utf-16be') return Buffer.from(text, 'utf16le').swap16();
  const decoder = new TextDecoder(charset);
  const table = new Map<string, number>();
  for (let byte = 0; byte < 256; byte++) table.set(decoder.decode(Uint8Array.of(byte)), byte);
  return Buffer.from(
    [...text].map((char) => {
      const byte = table.get(char);
      if (byte === undefined) throw new Error(`${charset} cannot encode ${JSON.stringify(char)}`);
      return byte;
    }),
  );
}
