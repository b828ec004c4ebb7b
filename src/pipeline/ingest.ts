// One poll of one source, in pipeline order: fetch → decode/parse → normalize → dedup → tag → store.
// Everything a poll stores is one transaction (a savepoint of a group commit), so a poll is visible whole or not at all.
import type { BackgroundThread } from '../background.ts';
import type { Config, SourceConfig } from '../config/schema.ts';
import type { Item, RawItem } from '../item.ts';
import type { Logger } from '../log.ts';
import { explainNotAFeed } from '../sources/discover.ts';
import { FetchError, fetchUrl, permanentRedirect, type FetchResponse } from '../sources/fetch.ts';
import { ParseError } from '../sources/feed.ts';
import type { HostLimiter } from '../sources/hosts.ts';
import { pageFetcher, sourceFetchOptions } from '../sources/page.ts';
import { articleSpec } from '../sources/article.ts';
import { readSource, type ReadContext } from '../sources/read.ts';
import { storageProblem } from '../store/sqlite/errors.ts';
import type { DocumentIdentities } from '../store/sqlite/fingerprints.ts';
import { currentUrl } from '../store/sqlite/sources.ts';
import type { Store } from '../store/store.ts';
import { withArticles } from './articles.ts';
import { identityKeys, itemUid } from './fingerprint.ts';
import { normalizeDocument, PrepareError, type Preparer } from './prepare.ts';
import { bestMatch, storyPrint } from '../text/stories.ts';
import { tagItem, type Tagger } from './tagger.ts';

export interface PipelineContext {
  config: Config;
  store: Store;
  tagger: Tagger;
  log: Logger;
  now: () => number;
  /** Politeness per host, shared by every fetch of the process. */
  hosts: HostLimiter;
  /** Decodes, parses and normalizes fetched feeds: on the background thread in the daemon, inline elsewhere. */
  preparer: Preparer;
  /** The background thread openPipeline started for the daemon (closePipeline closes it). */
  background?: BackgroundThread | undefined;
}

export interface SourceError {
  kind: string;
  message: string;
  /** When the site asked us to come back (Retry-After), epoch ms. */
  retryAt?: number | undefined;
}

export interface PollResult {
  sourceId: string;
  status: 'ok' | 'not-modified' | 'error';
  new: number;
  updated: number;
  unchanged: number;
  /** Of the new items, those that joined a story another source had already reported. */
  merged: number;
  durationMs: number;
  error?: SourceError;
  /** Hints from the source for scheduling its next poll. */
  ttlMinutes?: number | undefined;
  maxAgeMs?: number | null | undefined;
}

export async function pollSource(ctx: PipelineContext, source: SourceConfig, signal?: AbortSignal): Promise<PollResult> {
  const started = performance.now();
  const now = ctx.now();
  const result: PollResult = { sourceId: source.id, status: 'ok', new: 0, updated: 0, unchanged: 0, merged: 0, durationMs: 0 };
  let fetched: FetchResponse | undefined;
  try {
    const state = ctx.store.sources.get(source.id);
    // Articles due for another try need the list read again, so such a poll does not settle for a 304.
    const conditional = state?.url === source.url && !ctx.store.articles.anyDue(source.id, now);
    const response = await fetchUrl(currentUrl(state, source.url), {
      ...sourceFetchOptions(ctx.config, source, { signal, hosts: ctx.hosts }),
      etag: conditional ? state.etag : null,
      lastModified: conditional ? state.lastModified : null,
    });
    fetched = response;
    result.maxAgeMs = response.maxAgeMs;
    const moved = ctx.store.sources.trackRedirect(source.id, permanentRedirect(response));
    if (moved) ctx.log.warn({ source: source.id, url: moved }, `${source.id}: ${source.url} has moved permanently to ${moved}; polling the new address (update the config)`);
    if (response.notModified) {
      ctx.store.sources.recordSuccess(source.id, now, { etag: response.etag, lastModified: response.lastModified });
      result.status = 'not-modified';
    } else {
      const fetchPage = pageFetcher(ctx.config, source, { signal, hosts: ctx.hosts });
      const warn = (message: string) => ctx.log.warn({ source: source.id }, `${source.id}: ${message}`);
      const document = await readDocument(ctx, source, response, { fetchPage, warn }, now);
      const items = await withArticles(ctx, source, document.entries, fetchPage, signal);
      result.ttlMinutes = document.ttlMinutes;
      await ctx.store.write(() => {
        storeItems(ctx, items, now, result);
        ctx.store.sources.recordSuccess(source.id, now, {
          etag: response.etag,
          lastModified: response.lastModified,
          title: document.title ?? null,
          siteUrl: document.siteUrl ?? null,
          ttlMs: document.ttlMinutes ? document.ttlMinutes * 60_000 : null,
        });
      });
    }
  } catch (err) {
    result.status = 'error';
    // "Not a feed" diagnoses only make sense for feeds; an html or json source says which selector or path failed.
    result.error = describeError(err, source.kind === 'feed' ? fetched : undefined);
    try {
      ctx.store.sources.recordFailure(source.id, now, result.error.kind, result.error.message);
    } catch (storeErr) {
      // The failure cannot even be recorded (the disk is full, say): the result and the log still say it.
      if (!storageProblem(storeErr)) throw storeErr;
    }
  }
  result.durationMs = Math.round(performance.now() - started);
  logPoll(ctx.log, result);
  return result;
}

interface ReadDocument {
  title?: string | undefined;
  siteUrl?: string | undefined;
  ttlMinutes?: number | undefined;
  entries: { raw: RawItem; item: Item }[];
}

/** The source's items, normalized: a feed through the preparer (a worker thread in the daemon), other kinds here. */
async function readDocument(ctx: PipelineContext, source: SourceConfig, response: FetchResponse, read: ReadContext, now: number): Promise<ReadDocument> {
  const language = source.language ?? null;
  if (source.kind === 'feed') {
    let feed;
    try {
      feed = await ctx.preparer.prepare({
        sourceId: source.id,
        language,
        timeZone: source.timezone,
        body: response.body,
        contentType: response.contentType,
        url: response.url,
        now,
        withRaw: articleSpec(source) !== undefined,
      });
    } catch (err) {
      // The body went to the worker; it comes back with a parse error, to tell what the response was instead.
      if (err instanceof PrepareError) response.body = err.body;
      throw err;
    }
    for (const warning of feed.warnings) read.warn(warning);
    return { ...feed, entries: feed.items.map((item, i) => ({ raw: feed.raws?.[i] ?? {}, item })) };
  }
  const document = await readSource(source, response, read);
  const items = normalizeDocument(document.items, document.siteUrl, { sourceId: source.id, language, timeZone: source.timezone, url: response.url, now, warn: read.warn });
  return { ...document, entries: document.items.map((raw, i) => ({ raw, item: items[i]! })) };
}

/** Dedup, tag and store the items of one document of one source (call it inside a transaction), counting what happened to each. */
export function storeItems(ctx: PipelineContext, items: Item[], now: number, counts: Pick<PollResult, 'new' | 'updated' | 'unchanged' | 'merged'>): void {
  if (items.length === 0) return;
  const keys = identityKeys(items);
  const uids = items.map((item, i) => itemUid(item.sourceId, keys[i]![0]!));
  const known = ctx.store.fingerprints.lookup(items[0]!.sourceId, keys, uids, now);
  // Feeds list the newest first; storing in reverse keeps that order among items that share a date.
  for (let i = items.length - 1; i >= 0; i--) {
    const outcome = storeItem(ctx, items[i]!, keys[i]!, uids[i]!, known, now);
    if (outcome === 'merged') counts.merged++;
    counts[outcome === 'merged' ? 'new' : outcome]++;
  }
  known.save();
}

/** Dedup, tag and store one item; says whether it was new (in a story of its own, or merged into one), updated in place, or unchanged. */
function storeItem(ctx: PipelineContext, item: Item, keys: string[], uid: string, identities: DocumentIdentities, now: number): 'new' | 'merged' | 'updated' | 'unchanged' {
  const known = identities.find(keys, uid);
  // A pruned item (known, no longer stored) stays pruned: its source still listing it does not make it news.
  if (known && (known.itemId === null || known.contentHash === item.contentHash)) return 'unchanged';
  const tags = tagItem(ctx.tagger, item);
  if (known?.itemId) {
    ctx.store.items.update(known.itemId, item, now);
    ctx.store.items.setTopics(known.itemId, tags);
    identities.stored(keys, uid, known.itemId, item.contentHash);
    return 'updated';
  }
  const id = ctx.store.items.insert(item, uid, now, tags);
  identities.stored(keys, uid, id, item.contentHash);
  return fileStory(ctx, id, uid, item, now) ? 'merged' : 'new';
}

/** Files a new item under the story an earlier report from another source tells, or a story of its own; true when it joined one. */
function fileStory(ctx: PipelineContext, itemId: number, uid: string, item: Item, now: number): boolean {
  const print = storyPrint(item);
  const publishedAt = item.publishedAt ?? now;
  const { window, threshold } = ctx.config.dedup;
  const candidates = ctx.store.stories.candidates(print, item.sourceId, publishedAt, window, now);
  const match = bestMatch(print, candidates, threshold, (candidate) => ctx.store.stories.openTo(candidate.storyId, item.sourceId));
  ctx.store.stories.add({ itemId, uid, sourceId: item.sourceId, publishedAt, print, storyId: match?.storyId }, now, window);
  return match !== undefined;
}

/** Every failure as a kind and a message a maintainer can act on; `response` is what the site sent, when it answered. */
export function describeError(err: unknown, response?: FetchResponse): SourceError {
  if (err instanceof FetchError) return { kind: err.kind, message: err.message, retryAt: err.retryAt };
  if (err instanceof ParseError) return (response && explainNotAFeed(response)) ?? { kind: 'parse', message: err.message };
  const storage = storageProblem(err);
  if (storage) return { kind: 'storage', message: `nothing stored: ${storage}` };
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

function logPoll(log: Logger, result: PollResult): void {
  const { sourceId: source, status, durationMs: ms } = result;
  if (result.error) {
    log.warn({ source, status, ms, error: result.error.kind }, `${source}: ${result.error.message}`);
  } else {
    log.info(
      { source, status, ms, new: result.new, merged: result.merged, updated: result.updated, unchanged: result.unchanged },
      status === 'not-modified'
        ? `${source}: not modified`
        : `${source}: ${result.new} new (${result.merged} merged into stories), ${result.updated} updated, ${result.unchanged} unchanged`,
    );
  }
}
