// Identity fingerprints: the keys (guid:, url:, text:) each item is recognised by within its source. They outlive
// their items: when retention deletes an item its keys stay as tombstones, so the item never comes back as new.
import type { Db } from './db.ts';

/** What a source's item is already known as: a stored item, or a pruned one (itemId null). */
export interface KnownItem {
  itemId: number | null;
  contentHash: string | null;
}

const DAY_MS = 86_400_000;

export class FingerprintStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      byKey: db.prepare<[string, string], { item_id: number | null; content_hash: string | null }>(
        `SELECT k.item_id, i.content_hash FROM item_keys k LEFT JOIN items i ON i.id = k.item_id WHERE k.source_id = ? AND k.key = ?`,
      ),
      byUid: db.prepare<[string], { id: number; content_hash: string }>(`SELECT id, content_hash FROM items WHERE uid = ?`),
      add: db.prepare<[string, string, number, number]>(`INSERT OR IGNORE INTO item_keys (source_id, key, item_id, seen_at) VALUES (?, ?, ?, ?)`),
      // A tombstone's clock restarts while its source still lists the item (at most once a day, to spare writes).
      touch: db.prepare<{ sourceId: string; key: string; now: number; stale: number }>(
        `UPDATE item_keys SET seen_at = @now WHERE source_id = @sourceId AND key = @key AND item_id IS NULL AND seen_at < @stale`,
      ),
    };
  }

  /** The item these keys stand for, without writing anything: its id, null when it was pruned, undefined when unknown. */
  peek(sourceId: string, keys: string[], uid: string): number | null | undefined {
    for (const key of keys) {
      const row = this.statements.byKey.get(sourceId, key);
      if (row) return row.item_id;
    }
    return this.statements.byUid.get(uid)?.id;
  }

  /**
   * The item these keys (most telling first) stand for, if any. Items stored before keys were recorded are found by
   * their uid, and learn their keys here.
   */
  find(sourceId: string, keys: string[], uid: string, now: number): KnownItem | undefined {
    for (const key of keys) {
      const row = this.statements.byKey.get(sourceId, key);
      if (!row) continue;
      if (row.item_id === null) for (const seen of keys) this.statements.touch.run({ sourceId, key: seen, now, stale: now - DAY_MS });
      return { itemId: row.item_id, contentHash: row.content_hash };
    }
    const legacy = this.statements.byUid.get(uid);
    if (!legacy) return undefined;
    this.add(sourceId, keys, legacy.id, now);
    return { itemId: legacy.id, contentHash: legacy.content_hash };
  }

  /** Records the keys of an item; a key already known for another item keeps pointing there. */
  add(sourceId: string, keys: string[], itemId: number, now: number): void {
    for (const key of keys) this.statements.add.run(sourceId, key, itemId, now);
  }
}
