// Retention on PostgreSQL: deletes items published before the retention period in batches (each its own transaction,
// so polls are never held up for long), keeping their identity keys as tombstones; expires tombstones not seen for
// longer; drops the story prints the dedup window no longer needs.
import type { PruneOptions, PruneResult } from '../store.ts';
import type { Sql } from './db.ts';

const BATCH = 2_000;

/** `transaction` runs fn in one transaction on one connection. */
export async function prune(transaction: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>, options: PruneOptions): Promise<PruneResult> {
  const result: PruneResult = { items: 0, stories: 0, tombstones: 0 };
  const itemCutoff = options.now - options.items;
  for (;;) {
    const deleted = await transaction(async (sql) => {
      const old = await sql.query<{ id: number; story_id: number | null }>(
        `SELECT i.id, s.story_id FROM items i LEFT JOIN story_items s ON s.item_id = i.id WHERE i.published_at < $1 LIMIT $2`,
        [itemCutoff, BATCH],
      );
      if (old.length === 0) return 0;
      const ids = old.map((row) => row.id);
      // A tombstone's clock starts when its item is pruned (and restarts whenever its source lists the item again).
      await sql.query(`UPDATE item_keys SET item_id = NULL, seen_at = greatest(seen_at, $2) WHERE item_id = ANY($1::bigint[])`, [ids, options.now]);
      // Their topics and story memberships go with them (foreign keys); their prints are no candidates any more.
      await sql.query(
        `WITH prints AS (DELETE FROM story_prints WHERE item_id = ANY($1::bigint[])) DELETE FROM items WHERE id = ANY($1::bigint[])`,
        [ids],
      );
      // Stories left without a report.
      const stories = [...new Set(old.flatMap((row) => (row.story_id === null ? [] : [row.story_id])))];
      const emptied = await sql.query(`DELETE FROM stories s WHERE s.id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM story_items m WHERE m.story_id = s.id) RETURNING 1`, [
        stories,
      ]);
      result.stories += emptied.length;
      return old.length;
    });
    result.items += deleted;
    if (deleted < BATCH) break;
  }
  await transaction(async (sql) => {
    const gone = await sql.query(`DELETE FROM item_keys WHERE item_id IS NULL AND seen_at < $1 RETURNING 1`, [options.now - options.fingerprints]);
    result.tombstones = gone.length;
    const printCutoff = options.now - 2 * options.window;
    await sql.query(`DELETE FROM story_prints WHERE published_at < $1`, [printCutoff]);
  });
  return result;
}
