// Full articles in the pipeline: a new item's page (or detail endpoint) is fetched once and its sanitized
// body becomes the item's content, for tagging, dedup and output. A failed fetch keeps the item with
// its summary and is retried on later polls, with backoff; it never fails the source.
import type { SourceConfig } from '../config/schema.ts';
import type { Item, RawItem } from '../item.ts';
import { articleSpec, fetchArticle } from '../sources/article.ts';
import type { FetchPage } from '../sources/page.ts';
import { fencedWrite, type Lease, type PendingArticle } from '../store/store.ts';
import { identityKeys } from './fingerprint.ts';
import { itemUid } from '../text/uid.ts';
import type { PipelineContext } from './ingest.ts';
import { withContent } from './normalize.ts';
import { sanitize } from './sanitize.ts';

/** Article fetches per poll of one source; the rest wait for the next poll, so a first poll stays short. */
export const ARTICLES_PER_POLL = 20;
/** After this many failed attempts the item keeps its summary for good. */
export const MAX_ATTEMPTS = 8;
const FIRST_RETRY_MS = 10 * 60_000;
const MAX_RETRY_MS = 24 * 3_600_000;

interface Job {
  index: number;
  uid: string;
  url: string;
  attempts: number;
}

/**
 * The items with their full bodies: new items get theirs fetched, known items keep the one stored, and
 * stored items whose fetch failed before are retried when due (appended when no longer on the list).
 */
export async function withArticles(
  ctx: Pick<PipelineContext, 'store' | 'log' | 'now'>,
  source: SourceConfig,
  entries: { raw: RawItem; item: Item }[],
  fetchPage: FetchPage,
  signal?: AbortSignal,
  lease?: Lease,
): Promise<Item[]> {
  const items = entries.map((entry) => entry.item);
  const spec = articleSpec(source);
  if (!spec) return items;
  // Each attempt is recorded as it is made, fenced with the poll's lease like the poll's other writes.
  const record = (pending: PendingArticle) => fencedWrite(ctx.store, lease, (tx) => tx.articles.record(pending));
  const remove = (itemUid: string) => fencedWrite(ctx.store, lease, (tx) => tx.articles.remove(itemUid));
  const now = ctx.now();
  const due = new Map((await ctx.store.articles.due(source.id, now)).map((pending) => [pending.itemUid, pending]));
  const jobs: Job[] = [];
  const keys = identityKeys(items);
  for (const [index, { raw, item }] of entries.entries()) {
    const uid = itemUid(source.id, keys[index]![0]!);
    const known = await ctx.store.fingerprints.peek(source.id, keys[index]!, uid);
    // A pruned item stays pruned (the poll will not store it again): its article is not wanted.
    if (known === null) continue;
    const stored = known === undefined ? undefined : await ctx.store.items.get(known);
    if (!stored) {
      const url = raw.articleUrl ?? item.url;
      if (url) jobs.push({ index, uid, url, attempts: due.get(uid)?.attempts ?? 0 });
      due.delete(uid);
      continue;
    }
    items[index] = withContent(item, stored.contentHtml);
    const pending = due.get(stored.uid);
    if (pending) jobs.push({ index, uid: stored.uid, url: pending.url, attempts: pending.attempts });
    due.delete(stored.uid);
  }
  for (const pending of due.values()) {
    const stored = pending.itemId === null ? undefined : await ctx.store.items.get(pending.itemId);
    // An item that was never stored (the poll that found it failed) or has been pruned.
    if (!stored) await remove(pending.itemUid);
    else jobs.push({ index: items.push(stored) - 1, uid: stored.uid, url: pending.url, attempts: pending.attempts });
  }

  for (const [n, job] of jobs.entries()) {
    if (n >= ARTICLES_PER_POLL || signal?.aborted) {
      await record({ itemUid: job.uid, sourceId: source.id, url: job.url, attempts: job.attempts, nextAttemptAt: now, lastError: null });
      continue;
    }
    try {
      const article = await fetchArticle(spec, job.url, fetchPage);
      items[job.index] = withContent(items[job.index]!, sanitize(article.html, article.url));
      await remove(job.uid);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const attempts = job.attempts + 1;
      if (attempts >= MAX_ATTEMPTS) {
        await remove(job.uid);
        ctx.log.warn({ source: source.id, url: job.url }, `${source.id}: article ${job.url}: ${message}; gave up after ${attempts} attempts, keeping the summary`);
        continue;
      }
      const nextAttemptAt = now + Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
      await record({ itemUid: job.uid, sourceId: source.id, url: job.url, attempts, nextAttemptAt, lastError: message });
      ctx.log.warn({ source: source.id, url: job.url }, `${source.id}: article ${job.url}: ${message}; keeping the summary, retrying after ${new Date(nextAttemptAt).toISOString()}`);
    }
  }
  return items;
}
