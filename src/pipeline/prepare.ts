// Turning a fetched feed into normalized items: decode, parse, normalize. The daemon does it on a worker thread
// (background.ts, prepare-worker.ts), so that the thread that stores items and serves feeds does not spend its time in the parsers,
// and their garbage is collected in a heap of its own; one-shot commands and tests do it on the spot. A feed that
// hangs the parser or exhausts its memory costs that feed its poll (a parse error), never the daemon.
import type { TransferListItem } from 'node:worker_threads';
import type { BackgroundThread } from '../background.ts';
import type { SourceConfig } from '../config/schema.ts';
import type { Item, RawItem } from '../item.ts';
import { decode } from '../sources/decode.ts';
import { parseFeed, ParseError } from '../sources/feed.ts';
import { absoluteUrl, normalize } from './normalize.ts';

/** What a feed source's poll hands over to be prepared. */
export interface PrepareJob {
  sourceId: string;
  language: string | null;
  timeZone: SourceConfig['timezone'];
  body: Uint8Array;
  contentType: string | null;
  /** The URL the feed was fetched from (after redirects). */
  url: string;
  now: number;
  /** Keep each item's raw form too (a full-text source reads its article URL from it). */
  withRaw: boolean;
}

export interface PreparedFeed {
  title: string | undefined;
  siteUrl: string | undefined;
  ttlMinutes: number | undefined;
  items: Item[];
  /** The raw items, in the same order, when the job asked for them. */
  raws: RawItem[] | undefined;
  /** What could not be read (a date), for the log. */
  warnings: string[];
}

/** What normalizing a document's items needs to know of its source and its response. */
export type DocumentContext = Pick<PrepareJob, 'sourceId' | 'language' | 'timeZone' | 'url' | 'now'> & { warn: (message: string) => void };

/** A document's raw items, normalized; relative links are relative to the site it describes, as feed readers resolve them. */
export function normalizeDocument(raws: RawItem[], siteUrl: string | undefined, ctx: DocumentContext): Item[] {
  const baseUrl = absoluteUrl(siteUrl, ctx.url) ?? ctx.url;
  const context = { sourceId: ctx.sourceId, language: ctx.language, baseUrl, now: ctx.now, timeZone: ctx.timeZone, warn: ctx.warn };
  return raws.map((raw) => normalize(raw, context));
}

/**
 * Decodes, parses and normalizes one fetched feed. Throws ParseError when it is not a feed that can be read, whatever
 * went wrong in reading it: what a source sends never fails a poll any other way.
 */
export function prepareFeed(job: PrepareJob): Promise<PreparedFeed> {
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  try {
    const feed = parseFeed(decode(body, job.contentType, 'xml').text, job.url);
    const warnings: string[] = [];
    return Promise.resolve({
      title: feed.title,
      siteUrl: feed.link,
      ttlMinutes: feed.ttlMinutes,
      items: normalizeDocument(feed.items, feed.link, { ...job, warn: (message) => warnings.push(message) }),
      raws: job.withRaw ? feed.items : undefined,
      warnings,
    });
  } catch (err) {
    if (err instanceof ParseError) return Promise.reject(err);
    return Promise.reject(new ParseError(`the feed could not be read: ${(err as Error).message}`));
  }
}

export interface Preparer {
  /**
   * Prepares a fetched feed. The job's body may be handed over to another thread: read it no more after this call,
   * except from a PrepareError's `body`, which gives it back (to tell what the response was instead of a feed).
   */
  prepare(job: PrepareJob): Promise<PreparedFeed>;
}

/** A ParseError from a job prepared on the background thread, with the body it was about. */
export class PrepareError extends ParseError {
  readonly body: Buffer;

  constructor(message: string, body: Buffer) {
    super(message);
    this.body = body;
  }
}

/** Prepares on the calling thread (the body stays where it is). */
export const inlinePreparer: Preparer = { prepare: prepareFeed };

export interface WorkerPreparerOptions {
  /** A feed whose preparation takes longer fails its poll, and the thread is started again (default 60 s). */
  timeoutMs?: number;
}

export type PrepareReply = { id: number; ok: true; feed: PreparedFeed } | { id: number; ok: false; parse: boolean; message: string; body: Uint8Array };

interface Pending {
  resolve: (feed: PreparedFeed) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Prepares on the background thread, in the order asked. */
export function workerPreparer(background: BackgroundThread, options: WorkerPreparerOptions = {}): Preparer {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const channel = background.attach('prepare', {
    receive: (message) => {
      const reply = message as PrepareReply;
      const job = pending.get(reply.id);
      if (!job) return;
      pending.delete(reply.id);
      clearTimeout(job.timer);
      if (pending.size === 0) channel.waiting(false);
      if (reply.ok) return job.resolve(reply.feed);
      const body = Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength);
      job.reject(reply.parse ? new PrepareError(reply.message, body) : new Error(reply.message));
    },
    started: () => {},
    stopped: (reason) => {
      for (const [id, job] of pending) {
        clearTimeout(job.timer);
        pending.delete(id);
        job.reject(new PrepareError(`the feed could not be parsed: ${reason}`, Buffer.alloc(0)));
      }
      channel.waiting(false);
    },
  });
  return {
    prepare: (job) =>
      new Promise<PreparedFeed>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          if (pending.has(id)) channel.restart(`parsing it took longer than ${Math.round(timeoutMs / 1000)} s`);
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        channel.waiting(true);
        // The body moves to the thread when nothing else shares its memory; otherwise it is copied.
        channel.post({ id, job }, ownBuffer(job.body));
      }),
  };
}

/** The buffer to hand over with a view, when the view is all of it (otherwise the view is copied). */
export function ownBuffer(view: Uint8Array): TransferListItem[] {
  const { buffer } = view;
  return buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength ? [buffer] : [];
}
