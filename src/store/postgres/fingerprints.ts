// Identity fingerprints on PostgreSQL: the keys (guid:, url:, text:) each item is recognised by within its source,
// outliving their items as tombstones. The same answers as the SQLite engine's (store/identities.ts keeps what a
// document learns while it is stored); this schema began after legacy uid keys, so there are none to look for.
import { DocumentIdentities } from '../identities.ts';
import type { FingerprintStore as Fingerprints, KnownItem } from '../store.ts';
import type { Sql } from './db.ts';

const DAY_MS = 86_400_000;

export class FingerprintStore implements Fingerprints {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async peek(sourceId: string, keys: string[]): Promise<number | null | undefined> {
    const found = await this.read(sourceId, keys);
    const key = keys.find((k) => found.has(k));
    return key === undefined ? undefined : found.get(key)!.itemId;
  }

  async lookup(sourceId: string, keys: string[][], uids: string[], now: number): Promise<DocumentIdentities> {
    const found = await this.read(sourceId, keys.flat());
    // [key, item id] in order: a key already known keeps pointing where it did.
    const identities = new DocumentIdentities(async (rows) => {
      if (rows.length === 0) return;
      await this.sql.query(
        `INSERT INTO item_keys (source_id, key, item_id, seen_at) SELECT $1, k.key, k.item_id, $2 FROM unnest($3::text[], $4::bigint[]) AS k(key, item_id)
         ON CONFLICT DO NOTHING`,
        [sourceId, now, rows.map((r) => r[0]), rows.map((r) => r[1])],
      );
    });
    const touched: string[] = [];
    keys.forEach((itemKeys, i) => {
      const key = itemKeys.find((k) => found.has(k));
      if (key === undefined) return;
      const known = found.get(key)!;
      if (known.itemId === null) touched.push(...itemKeys);
      identities.know(itemKeys, uids[i]!, known);
    });
    // A tombstone's clock restarts while its source still lists the item (at most once a day, to spare writes).
    if (touched.length > 0) {
      await this.sql.query(`UPDATE item_keys SET seen_at = $3 WHERE source_id = $1 AND key = ANY($2::text[]) AND item_id IS NULL AND seen_at < $4`, [
        sourceId,
        touched,
        now,
        now - DAY_MS,
      ]);
    }
    return identities;
  }

  async known(sourceId: string, keys: string[][]): Promise<(KnownItem | undefined)[]> {
    const found = await this.read(sourceId, keys.flat());
    return keys.map((itemKeys) => {
      const key = itemKeys.find((k) => found.has(k));
      return key === undefined ? undefined : found.get(key);
    });
  }

  /** The known keys among these, in one statement. */
  private async read(sourceId: string, keys: string[]): Promise<Map<string, KnownItem>> {
    const found = new Map<string, KnownItem>();
    if (keys.length === 0) return found;
    const rows = await this.sql.query<{ key: string; item_id: number | null; content_hash: string | null }>(
      `SELECT k.key, k.item_id, i.content_hash FROM item_keys k LEFT JOIN items i ON i.id = k.item_id WHERE k.source_id = $1 AND k.key = ANY($2::text[])`,
      [sourceId, keys],
    );
    for (const row of rows) found.set(row.key, { itemId: row.item_id, contentHash: row.content_hash });
    return found;
  }
}
