// Re-applies the topic rules to stored items, so outputs follow the config without a refetch. Runs in
// batches with a turn of the event loop between them, so the server keeps answering meanwhile.
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { tagItem, type Tagger } from './tagger.ts';

/** The meta key under which the hash of the rules the stored tags were computed with is kept. */
export const TOPICS_HASH_KEY = 'topics_hash';
const BATCH_SIZE = 250;

export interface RetagReport {
  items: number;
  /** Items whose topics or explanations changed. */
  changed: number;
  /** Per topic, how many items gained it and how many lost it (topics with changes only). */
  topics: Record<string, { gained: number; lost: number }>;
  /** False when it was stopped before the last item (the rules changed again, or the daemon stopped). */
  complete: boolean;
}

export interface RetagOptions {
  signal?: AbortSignal;
  batchSize?: number;
}

/** Whether the stored tags were computed with other rules than this tagger's. */
export async function needsRetag(store: Store, tagger: Tagger): Promise<boolean> {
  return (await store.meta.get(TOPICS_HASH_KEY)) !== tagger.hash;
}

/**
 * Tags every stored item again with these rules and stores what changed. Once every item is done, the
 * rules' hash is recorded, so a restart with the same rules does nothing and an interrupted run is redone.
 */
export async function retagAll(store: Store, tagger: Tagger, log: Logger, options: RetagOptions = {}): Promise<RetagReport> {
  const report: RetagReport = { items: 0, changed: 0, topics: {}, complete: false };
  const count = (topic: string, key: 'gained' | 'lost') => {
    const entry = (report.topics[topic] ??= { gained: 0, lost: 0 });
    entry[key]++;
  };
  let after = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const batch = await store.items.taggingBatch(after, options.batchSize ?? BATCH_SIZE);
    if (batch.length === 0) {
      report.complete = true;
      break;
    }
    await store.transaction(async (tx) => {
      for (const item of batch) {
        const tags = tagItem(tagger, item);
        const now = new Map(tags.map((t) => [t.topic, JSON.stringify(t.matches)]));
        for (const topic of now.keys()) if (!item.tags.has(topic)) count(topic, 'gained');
        for (const topic of item.tags.keys()) if (!now.has(topic)) count(topic, 'lost');
        const same = now.size === item.tags.size && [...now].every(([topic, matches]) => item.tags.get(topic) === matches);
        if (!same) {
          await tx.items.setTopics(item.id, tags);
          report.changed++;
        }
      }
    });
    report.items += batch.length;
    after = batch.at(-1)!.id;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (report.complete) await store.meta.set(TOPICS_HASH_KEY, tagger.hash);
  logReport(log, report);
  return report;
}

function logReport(log: Logger, report: RetagReport): void {
  for (const [topic, { gained, lost }] of Object.entries(report.topics)) {
    log.info({ topic, gained, lost }, `retag: topic ${topic}: ${gained} items gained it, ${lost} lost it`);
  }
  const { items, changed, complete } = report;
  log.info({ items, changed, complete }, complete ? `retag: ${items} items re-tagged, ${changed} changed` : `retag: stopped after ${items} items`);
}
