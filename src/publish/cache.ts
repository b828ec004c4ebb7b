// Rendered responses kept until what they show changes: an entry is fresh while the store's
// generation and the config are the ones it was rendered from. When either moved, the resource is
// rendered again, but keeps its ETag (and its compressed forms) if the bytes came out the same.
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

export interface Rendered {
  type: string;
  body: Buffer;
  /** A strong validator: a hash of the bytes. */
  etag: string;
  /** Epoch ms, to whole seconds (HTTP dates have no finer resolution). */
  lastModified: number;
  /** Compressed forms, made on first request. */
  encoded: Partial<Record<Encoding, Buffer>>;
}

interface Entry {
  rendered: Rendered;
  generation: number;
  config: object;
}

export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  async get(key: string, generation: number, config: object, render: () => Promise<{ type: string; body: string; lastModified: number }>): Promise<Rendered> {
    const entry = this.entries.get(key);
    if (entry && entry.generation === generation && entry.config === config) return entry.rendered;
    const fresh = rendered(await render());
    const kept = entry && entry.rendered.etag === fresh.etag ? entry.rendered : fresh;
    // Map order is insertion order: re-inserting marks the entry as recently used; the oldest goes first.
    this.entries.delete(key);
    this.entries.set(key, { rendered: kept, generation, config });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return kept;
  }
}

export function rendered({ type, body, lastModified }: { type: string; body: string; lastModified: number }): Rendered {
  const bytes = Buffer.from(body);
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  return { type, body: bytes, etag, lastModified: Math.floor(lastModified / 1000) * 1000, encoded: {} };
}

export function encode(resource: Rendered, encoding: Encoding): Buffer {
  resource.encoded[encoding] ??=
    encoding === 'br'
      ? // Quality 5 compresses feeds nearly as well as 11 in a fraction of the time; it is paid once per change.
        brotliCompressSync(resource.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: resource.body.length } })
      : gzipSync(resource.body, { level: 6 });
  return resource.encoded[encoding];
}
