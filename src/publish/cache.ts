// Rendered responses kept until what they show changes: an entry is fresh while the store's
// generation and the config are the ones it was rendered from. When either moved, the resource is
// rendered again, but keeps its ETag (and its compressed forms) if the bytes came out the same.
// The cache is bounded in bytes, and renders of one resource at the same moment are one render.
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

/** What a render gives: the bytes of a resource before they are hashed and kept. */
export interface Body {
  type: string;
  body: string;
  /** Epoch ms of the latest change the body shows. */
  lastModified: number;
}

interface Entry {
  key: string;
  rendered: Rendered;
  generation: number;
  config: object;
  /** What the entry holds: its body and compressed forms, its key, and a share for the objects around them. */
  bytes: number;
}

interface Flight {
  generation: number;
  config: object;
  promise: Promise<Rendered>;
}

/** What an entry costs beyond its bytes (the objects, the ETag, the map's slot): it bounds many small entries too. */
const ENTRY_OVERHEAD = 512;

/**
 * The rendered responses, the least recently used dropped first once they hold more than a number of bytes (compressed
 * forms included), so a client minting distinct URLs cannot grow memory past it. Requests for a resource that is being
 * rendered wait for that render rather than starting their own.
 */
export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  private readonly owners = new WeakMap<Rendered, Entry>();
  private readonly maxBytes: () => number;
  private readonly turns: RenderTurns | undefined;
  private held = 0;

  /** maxBytes is read at each change, so that a reloaded config takes effect; renders start in `turns`, if given. */
  constructor(maxBytes: () => number, turns?: RenderTurns) {
    this.maxBytes = maxBytes;
    this.turns = turns;
  }

  /** The bytes held now. */
  get bytes(): number {
    return this.held;
  }

  get(key: string, generation: number, config: object, render: () => Body | Promise<Body>): Promise<Rendered> {
    const entry = this.entries.get(key);
    if (entry && entry.generation === generation && entry.config === config) {
      // Map order is insertion order: re-inserting marks the entry as recently used; the oldest goes first.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return Promise.resolve(entry.rendered);
    }
    const flight = this.flights.get(key);
    if (flight && flight.generation === generation && flight.config === config) return flight.promise;
    const promise = (async () => this.keep(key, rendered(await (this.turns ? this.turns.run(render) : render())), generation, config))();
    this.flights.set(key, { generation, config, promise });
    const land = () => {
      if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
    };
    promise.then(land, land);
    return promise;
  }

  /** The resource in a compressed form, made once; the entry holding it counts the bytes. */
  encode(resource: Rendered, encoding: Encoding): Buffer {
    const known = resource.encoded[encoding];
    if (known) return known;
    const bytes = encode(resource, encoding);
    const entry = this.owners.get(resource);
    if (entry && this.entries.get(entry.key) === entry) {
      entry.bytes += bytes.length;
      this.held += bytes.length;
      this.evict();
    }
    return bytes;
  }

  /** Keeps a fresh render, or the one it replaces when the bytes came out the same (its ETag and compressed forms stay). */
  private keep(key: string, fresh: Rendered, generation: number, config: object): Rendered {
    const old = this.entries.get(key);
    const kept = old && old.rendered.etag === fresh.etag ? old.rendered : fresh;
    if (old) this.drop(old);
    const entry: Entry = { key, rendered: kept, generation, config, bytes: ENTRY_OVERHEAD + key.length * 2 + kept.body.length };
    for (const bytes of Object.values(kept.encoded)) entry.bytes += bytes.length;
    this.entries.set(key, entry);
    this.owners.set(kept, entry);
    this.held += entry.bytes;
    this.evict();
    return kept;
  }

  private evict(): void {
    const max = this.maxBytes();
    for (const entry of this.entries.values()) {
      if (this.held <= max) return;
      this.drop(entry);
    }
  }

  private drop(entry: Entry): void {
    this.entries.delete(entry.key);
    this.held -= entry.bytes;
  }
}

/**
 * Renders in the order they were asked for, at most `concurrency()` at a time, each started in a turn of the event loop
 * of its own. A render from SQLite never waits for I/O: renders started by the requests of one turn ran one after the
 * other before any request that came meanwhile was even read, which then waited for that whole batch and its place in
 * the next one (bench/serve.ts, ten connections on cold pages: p50 14 ms, p99 35 ms). Started one a turn, cold
 * requests are served in the order they came, and the requests that need no render (cached, 304) are answered between
 * two renders. PostgreSQL's renders wait for the server, so more run at once there.
 */
export class RenderTurns {
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: () => number;
  private active = 0;
  private scheduled = false;

  constructor(concurrency: () => number) {
    this.concurrency = concurrency;
  }

  run<T>(render: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.active++;
        Promise.resolve()
          .then(render)
          .then(resolve, reject)
          .finally(() => {
            this.active--;
            this.schedule();
          });
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0 || this.active >= this.concurrency()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.active < this.concurrency()) this.waiting.shift()?.();
      this.schedule();
    });
  }
}

export function rendered({ type, body, lastModified }: Body): Rendered {
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
