// One poll of one source, in pipeline order: fetch → decode/parse → normalize → dedup → tag → store.
// Everything a poll stores is one transaction (a savepoint of a group commit), so a poll is visible whole or not at all;
// under a lease (the scheduler's), every write of the poll is fenced with it, so a poll that outlived it stores nothing.
import type { BackgroundThread } from '../background.ts';
import type { Config, SourceConfig } from '../config/schema.ts';
import type { Item, RawItem, Tag } from '../item.ts';
import type { Logger } from '../log.ts';
import { explainNotAFeed } from '../sources/discover.ts';
import { FetchError, fetchUrl, permanentRedirect, type FetchResponse } from '../sources/fetch.ts';
import { ParseError } from '../sources/feed.ts';
import type { HostLimiter } from '../sources/hosts.ts';
import { pageFetcher, sourceFetchOptions } from '../sources/page.ts';
import { articleSpec } from '../sources/article.ts';
import { readSource, type ReadContext } from '../sources/read.ts';
import { currentUrl, fencedWrite, LeaseLostError, storageProblem, type DocumentIdentities, type Lease, type Store, type Transaction } from '../store/store.ts';
import { sameStoryCandidates, storyPrint, type StoryPrint } from '../text/stories.ts';
import { withArticles } from './articles.ts';
import { identityKeys } from './fingerprint.ts';
import { itemUid } from '../text/uid.ts';
import { normalizeDocument, PrepareError, type Preparer } from './prepare.ts';
import { tagItem, type Tagger } from './tagger.ts';

export interface PipelineContext {
  config: Config;
  store: Store;
  tagger: Tagger;
  log: Logger;
  now: () => number;
  /** This process in the cluster: whose leases, host slots and tasks they are. */
  owner: string;
  /** Politeness per host, shared by every fetch of the process (and, through the store's cluster, with other processes). */
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

/** Polls one source; with a lease (the scheduler's claim on it), nothing is written unless the lease still holds. */
export async function pollSource(ctx: PipelineContext, source: SourceConfig, signal?: AbortSignal, lease?: Lease): Promise<PollResult> {
  const started = performance.now();
  const now = ctx.now();
  const result: PollResult = { sourceId: source.id, status: 'ok', new: 0, updated: 0, unchanged: 0, merged: 0, durationMs: 0 };
  let fetched: FetchResponse | undefined;
  try {
    const state = await ctx.store.sources.get(source.id);
    // Articles due for another try need the list read again, so such a poll does not settle for a 304.
    const conditional = state?.url === source.url && !(await ctx.store.articles.anyDue(source.id, now));
    const response = await fetchUrl(currentUrl(state, source.url), {
      ...sourceFetchOptions(ctx.config, source, { signal, hosts: ctx.hosts }),
      etag: conditional ? state.etag : null,
      lastModified: conditional ? state.lastModified : null,
    });
    fetched = response;
    result.maxAgeMs = response.maxAgeMs;
    const redirect = permanentRedirect(response);
    let moved: string | null;
    if (response.notModified) {
      moved = await fencedWrite(ctx.store, lease, async (tx) => {
        await tx.sources.recordSuccess(source.id, now, { etag: response.etag, lastModified: response.lastModified });
        return tx.sources.trackRedirect(source.id, redirect);
      });
      result.status = 'not-modified';
    } else {
      const fetchPage = pageFetcher(ctx.config, source, { signal, hosts: ctx.hosts });
      const warn = (message: string) => ctx.log.warn({ source: source.id }, `${source.id}: ${message}`);
      const document = await readDocument(ctx, source, response, { fetchPage, warn }, now);
      const items = await withArticles(ctx, source, document.entries, fetchPage, signal, lease);
      result.ttlMinutes = document.ttlMinutes;
      const prepared = await prepareItems(ctx, items);
      const written = await fencedWrite(ctx.store, lease, async (tx) => {
        // Counted afresh each time: an engine may run a write again when nothing of it was stored (PostgreSQL, after
        // a lost connection or a deadlock).
        const counted = { new: 0, updated: 0, unchanged: 0, merged: 0 };
        await storeItems(tx, ctx, prepared, now, counted);
        await tx.sources.recordSuccess(source.id, now, {
          etag: response.etag,
          lastModified: response.lastModified,
          title: document.title ?? null,
          siteUrl: document.siteUrl ?? null,
          ttlMs: document.ttlMinutes ? document.ttlMinutes * 60_000 : null,
        });
        return { counted, moved: await tx.sources.trackRedirect(source.id, redirect) };
      });
      Object.assign(result, written.counted);
      moved = written.moved;
    }
    if (moved) ctx.log.warn({ source: source.id, url: moved }, `${source.id}: ${source.url} has moved permanently to ${moved}; polling the new address (update the config)`);
  } catch (err) {
    result.status = 'error';
    // "Not a feed" diagnoses only make sense for feeds; an html or json source says which selector or path failed.
    result.error = describeError(err, source.kind === 'feed' ? fetched : undefined);
    try {
      // A poll that lost its lease records nothing: the source is another poller's now.
      if (!(err instanceof LeaseLostError)) await fencedWrite(ctx.store, lease, (tx) => tx.sources.recordFailure(source.id, now, result.error!.kind, result.error!.message));
    } catch (storeErr) {
      // The failure cannot even be recorded (the disk is full, say): the result and the log still say it.
      if (!storageProblem(storeErr) && !(storeErr instanceof LeaseLostError)) throw storeErr;
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

/**
 * The items of one document of one source, with what can be worked out before its transaction: their identity keys and
 * uids and, for those the store does not know yet or knows with other content, their tags and (the new ones) their
 * story prints. storeItems decides again under the transaction and works out what this guessed wrong.
 */
export interface PreparedDocument {
  sourceId: string;
  entries: PreparedItem[];
  keys: string[][];
  uids: string[];
}

interface PreparedItem {
  item: Item;
  tags?: Tag[] | undefined;
  print?: StoryPrint | undefined;
}

export async function prepareItems(ctx: Pick<PipelineContext, 'store' | 'tagger'>, items: Item[]): Promise<PreparedDocument> {
  const sourceId = items[0]?.sourceId ?? '';
  const keys = identityKeys(items);
  const uids = items.map((item, i) => itemUid(item.sourceId, keys[i]![0]!));
  const known = items.length === 0 ? [] : await ctx.store.fingerprints.known(sourceId, keys, uids);
  const entries = items.map((item, i): PreparedItem => {
    const found = known[i];
    if (found && (found.itemId === null || found.contentHash === item.contentHash)) return { item };
    return { item, tags: tagItem(ctx.tagger, item), print: found ? undefined : storyPrint(item) };
  });
  return { sourceId, entries, keys, uids };
}

/** Dedup, tag and store the items of a prepared document in the transaction `tx`, counting what happened to each. */
export async function storeItems(
  tx: Transaction,
  ctx: Pick<PipelineContext, 'config' | 'tagger'>,
  document: PreparedDocument,
  now: number,
  counts: Pick<PollResult, 'new' | 'updated' | 'unchanged' | 'merged'>,
): Promise<void> {
  const { entries, keys, uids } = document;
  if (entries.length === 0) return;
  const known = await tx.fingerprints.lookup(document.sourceId, keys, uids, now);
  // Feeds list the newest first; storing in reverse keeps that order among items that share a date.
  for (let i = entries.length - 1; i >= 0; i--) {
    const outcome = await storeItem(tx, ctx, entries[i]!, keys[i]!, uids[i]!, known, now);
    if (outcome === 'merged') counts.merged++;
    counts[outcome === 'merged' ? 'new' : outcome]++;
  }
  await known.save();
}

/** Dedup, tag and store one item; says whether it was new (in a story of its own, or merged into one), updated in place, or unchanged. */
async function storeItem(
  tx: Transaction,
  ctx: Pick<PipelineContext, 'config' | 'tagger'>,
  entry: PreparedItem,
  keys: string[],
  uid: string,
  identities: DocumentIdentities,
  now: number,
): Promise<'new' | 'merged' | 'updated' | 'unchanged'> {
  const { item } = entry;
  const known = identities.find(keys, uid);
  // A pruned item (known, no longer stored) stays pruned: its source still listing it does not make it news.
  if (known && (known.itemId === null || known.contentHash === item.contentHash)) return 'unchanged';
  // An item already past retention would be published until tonight's prune and come back at the next fetch:
  // only its fingerprint is kept, as a pruned item's is.
  if (!known && item.publishedAt !== null && item.publishedAt < now - ctx.config.retention.items) {
    identities.forgotten(keys, uid);
    return 'unchanged';
  }
  const tags = entry.tags ?? tagItem(ctx.tagger, item);
  if (known?.itemId) {
    await tx.items.update(known.itemId, item, now);
    await tx.items.setTopics(known.itemId, tags);
    identities.stored(keys, uid, known.itemId, item.contentHash);
    return 'updated';
  }
  const id = await tx.items.insert(item, uid, now, tags);
  identities.stored(keys, uid, id, item.contentHash);
  return (await fileStory(tx, ctx, id, uid, item, entry.print ?? storyPrint(item), now)) ? 'merged' : 'new';
}

/** Files a new item under the story an earlier report from another source tells, or a story of its own; true when it joined one. */
async function fileStory(tx: Transaction, ctx: Pick<PipelineContext, 'config'>, itemId: number, uid: string, item: Item, print: StoryPrint, now: number): Promise<boolean> {
  const publishedAt = item.publishedAt ?? now;
  const { window, threshold } = ctx.config.dedup;
  const candidates = await tx.stories.candidates(print, item.sourceId, publishedAt, window, now);
  let match: (typeof candidates)[number] | undefined;
  for (const candidate of sameStoryCandidates(print, candidates, threshold)) {
    if (await tx.stories.openTo(candidate.storyId, item.sourceId)) {
      match = candidate;
      break;
    }
  }
  await tx.stories.add({ itemId, uid, sourceId: item.sourceId, publishedAt, print, storyId: match?.storyId }, now, window);
  return match !== undefined;
}

/** Every failure as a kind and a message a maintainer can act on; `response` is what the site sent, when it answered. */
export function describeError(err: unknown, response?: FetchResponse): SourceError {
  if (err instanceof FetchError) return { kind: err.kind, message: err.message, retryAt: err.retryAt };
  if (err instanceof ParseError) return (response && explainNotAFeed(response)) ?? { kind: 'parse', message: err.message };
  if (err instanceof LeaseLostError) return { kind: 'lease', message: err.message };
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
