// Retention: deletes items published longer ago than the retention period but keeps their identity keys as
// tombstones (so a pruned item still in its source's feed is recognised, not stored again), expires tombstones
// not seen for longer, and trims the story index to what the dedup window can still use.
import type { PruneOptions, PruneResult } from '../store.ts';
import type { Db } from './db.ts';

// Deleting in batches keeps each write transaction short, so polls are never held up for long.
const BATCH = 2_000;

export function prune(db: Db, options: PruneOptions): PruneResult {
  const oldItems = db.prepare<[number, number], { id: number; story_id: number | null }>(
    `SELECT i.id, s.story_id FROM items i LEFT JOIN story_items s ON s.item_id = i.id WHERE i.published_at < ? LIMIT ?`,
  );
  // A tombstone's clock starts when its item is pruned (and restarts whenever its source lists the item again).
  const bury = db.prepare<{ id: number; now: number }>(`UPDATE item_keys SET item_id = NULL, seen_at = max(seen_at, @now) WHERE item_id = @id`);
  // Deleting an item deletes its topics and story membership too (foreign keys).
  const deleteItem = db.prepare<[number]>(`DELETE FROM items WHERE id = ?`);
  const deleteEmptyStory = db.prepare<{ id: number }>(`DELETE FROM stories WHERE id = @id AND NOT EXISTS (SELECT 1 FROM story_items WHERE story_id = @id)`);
  const result: PruneResult = { items: 0, stories: 0, tombstones: 0 };
  const itemCutoff = options.now - options.items;
  for (;;) {
    const deleted = db.transaction(() => {
      const rows = oldItems.all(itemCutoff, BATCH);
      for (const row of rows) {
        bury.run({ id: row.id, now: options.now });
        deleteItem.run(row.id);
      }
      for (const storyId of new Set(rows.map((row) => row.story_id))) {
        if (storyId !== null) result.stories += deleteEmptyStory.run({ id: storyId }).changes;
      }
      return rows.length;
    })();
    result.items += deleted;
    if (deleted < BATCH) break;
  }
  db.transaction(() => {
    result.tombstones = db.prepare(`DELETE FROM item_keys WHERE item_id IS NULL AND seen_at < ?`).run(options.now - options.fingerprints).changes;
    const printCutoff = options.now - 2 * options.window;
    db.prepare(`DELETE FROM story_prints WHERE published_at < ?`).run(printCutoff);
  })();
  return result;
}

/**
 * After a prune: refresh the query planner's statistics, and fold the write-ahead log back into the database file. Of
 * the main database only: the attached search index is the background thread's to write, and optimizing every schema
 * from here raced with that thread's writes, failing about one housekeeping in five right after a poll with "database
 * is locked" (tests/identity.test.ts, the tombstone test).
 */
export function optimize(db: Db): void {
  db.pragma('main.optimize');
  db.pragma('main.wal_checkpoint(TRUNCATE)');
}
