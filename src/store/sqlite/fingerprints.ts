// Identity fingerprints: the keys (guid:, url:, text:) each item is recognised by within its source. They outlive
// their items: when retention deletes an item its keys stay as tombstones, so the item never comes back as new.
import { DocumentIdentities } from '../identities.ts';
import type { FingerprintStore as Fingerprints, KnownItem } from '../store.ts';
import type { Db } from './db.ts';

const DAY_MS = 86_400_000;

/**
 * The key of an item stored before identity keys were recorded (schema 5) that had neither guid nor URL: it was known by
 * its uid, and migration 8 gave it this key.
 */
const legacyKey = (uid: string) => `uid:${uid}`;

export class FingerprintStore implements Fingerprints {
  private readonly statements;
  /** Whether the database has such items (meta legacy_uid_keys): only then are their keys looked for. */
  private readonly legacy: boolean;

  constructor(db: Db) {
    this.legacy = db.prepare(`SELECT 1 FROM meta WHERE key = 'legacy_uid_keys'`).get() !== undefined;
    this.statements = {
      byKey: db.prepare<[string, string], { item_id: number | null; content_hash: string | null }>(
        `SELECT k.item_id, i.content_hash FROM item_keys k LEFT JOIN items i ON i.id = k.item_id WHERE k.source_id = ? AND k.key = ?`,
      ),
      // The keys (a JSON array) of one document that are known, in one statement rather than one per key.
      byKeys: db.prepare<[string, string], { key: string; item_id: number | null; content_hash: string | null }>(
        `SELECT k.key, k.item_id, i.content_hash FROM item_keys k LEFT JOIN items i ON i.id = k.item_id
         WHERE k.source_id = ? AND k.key IN (SELECT value FROM json_each(?))`,
      ),
      // [[key, item id], …] in order: a key already known keeps pointing where it did.
      add: db.prepare<[string, number, string]>(
        `INSERT OR IGNORE INTO item_keys (source_id, key, item_id, seen_at) SELECT ?, value ->> 0, value ->> 1, ? FROM json_each(?)`,
      ),
      // A tombstone's clock restarts while its source still lists the item (at most once a day, to spare writes).
      touch: db.prepare<{ sourceId: string; keys: string; now: number; stale: number }>(
        `UPDATE item_keys SET seen_at = @now
         WHERE source_id = @sourceId AND key IN (SELECT value FROM json_each(@keys)) AND +item_id IS NULL AND +seen_at < @stale`,
      ),
    };
  }

  /** The item these keys stand for, without writing anything: its id, null when it was pruned, undefined when unknown. */
  async peek(sourceId: string, keys: string[], uid: string): Promise<number | null | undefined> {
    for (const key of this.legacy ? [...keys, legacyKey(uid)] : keys) {
      const row = this.statements.byKey.get(sourceId, key);
      if (row) return row.item_id;
    }
    return undefined;
  }

  /**
   * What the items of one document of a source (each with its keys, most telling first, and its uid) are known as, read
   * in one statement. Tombstones that are listed again are touched; items stored before keys were recorded are found
   * by their legacy key, and learn their keys. The answer also learns what the document stores (`stored`), so that a
   * later item of it finds an earlier one, and writes the keys it learnt in one statement (`save`).
   */
  async lookup(sourceId: string, keys: string[][], uids: string[], now: number): Promise<DocumentIdentities> {
    const found = this.read(sourceId, keys, uids);
    const identities = new DocumentIdentities((rows) => {
      if (rows.length > 0) this.statements.add.run(sourceId, now, JSON.stringify(rows));
    });
    const touched: string[] = [];
    keys.forEach((itemKeys, i) => {
      const key = itemKeys.find((k) => found.has(k));
      if (key !== undefined) {
        const known = found.get(key)!;
        if (known.itemId === null) touched.push(...itemKeys);
        identities.know(itemKeys, uids[i]!, known);
        return;
      }
      const legacy = this.legacy ? found.get(legacyKey(uids[i]!)) : undefined;
      if (legacy === undefined) return;
      if (legacy.itemId === null) {
        touched.push(legacyKey(uids[i]!));
        identities.know(itemKeys, uids[i]!, legacy);
      } else {
        // Known by its uid only: it learns the keys it is listed with now.
        identities.stored(itemKeys, uids[i]!, legacy.itemId, legacy.contentHash!);
      }
    });
    if (touched.length > 0) this.statements.touch.run({ sourceId, keys: JSON.stringify(touched), now, stale: now - DAY_MS });
    return identities;
  }

  async known(sourceId: string, keys: string[][], uids: string[]): Promise<(KnownItem | undefined)[]> {
    const found = this.read(sourceId, keys, uids);
    return keys.map((itemKeys, i) => {
      const key = itemKeys.find((k) => found.has(k));
      return key === undefined ? (this.legacy ? found.get(legacyKey(uids[i]!)) : undefined) : found.get(key);
    });
  }

  /** The known keys among those of a document's items (and their legacy keys), in one statement. */
  private read(sourceId: string, keys: string[][], uids: string[]): Map<string, KnownItem> {
    const found = new Map<string, KnownItem>();
    const wanted = keys.flat();
    if (this.legacy) wanted.push(...uids.map(legacyKey));
    for (const row of this.statements.byKeys.all(sourceId, JSON.stringify(wanted))) {
      found.set(row.key, { itemId: row.item_id, contentHash: row.content_hash });
    }
    return found;
  }
}
