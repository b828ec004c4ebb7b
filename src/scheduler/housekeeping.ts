// The daily housekeeping: prune items past retention (their fingerprints stay as tombstones), then PRAGMA optimize
// and a WAL checkpoint. The daemon runs it on retention.schedule, once in the cluster; `newsloom prune` runs it once.
import cron, { type ScheduledTask } from 'node-cron';
import type { PipelineContext } from '../pipeline/ingest.ts';
import type { PruneResult } from '../store/store.ts';

export async function housekeep(ctx: PipelineContext): Promise<PruneResult> {
  const started = performance.now();
  const { retention, dedup } = ctx.config;
  const result = await ctx.store.prune({ now: ctx.now(), items: retention.items, fingerprints: retention.fingerprints, window: dedup.window });
  await ctx.store.optimize();
  ctx.log.info(
    { ...result, ms: Math.round(performance.now() - started) },
    `housekeeping: pruned ${result.items} items and ${result.stories} stories, forgot ${result.tombstones} fingerprints`,
  );
  return result;
}

/**
 * Runs housekeeping on retention.schedule, once in the cluster: every process's cron fires at the same minute, and only
 * the one that gets the cluster's housekeeping task (held for `leaseMs`, longer than a run) does it.
 */
export function startHousekeeping(ctx: PipelineContext, leaseMs: number): ScheduledTask {
  return cron.schedule(
    ctx.config.retention.schedule,
    async () => {
      try {
        if (!(await ctx.store.cluster.holdTask(ctx.owner, 'housekeeping', ctx.now(), leaseMs))) {
          ctx.log.info('housekeeping: another poller of this database is doing it');
          return;
        }
        await housekeep(ctx);
      } catch (err) {
        // A failed prune (disk full, database busy) is retried tomorrow; it must not take the daemon down.
        ctx.log.error({ err }, `housekeeping failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    { name: 'newsloom-housekeeping', noOverlap: true },
  );
}
