// What the items of one document are known as while the document is stored, the same for every engine: what the
// store found of their keys, and what the document stores meanwhile, so that a later item of it finds an earlier one.
import type { DocumentIdentities as Identities, KnownItem } from './store.ts';

/** What the items of one document are known as, kept up to date while the document is stored. */
export class DocumentIdentities implements Identities {
  private readonly byKey = new Map<string, KnownItem>();
  private readonly byUid = new Map<string, KnownItem>();
  private readonly pending: [key: string, itemId: number | null][] = [];
  private readonly write: (rows: [string, number | null][]) => void | Promise<void>;

  constructor(write: (rows: [string, number | null][]) => void | Promise<void>) {
    this.write = write;
  }

  find(keys: string[], uid: string): KnownItem | undefined {
    for (const key of keys) {
      const known = this.byKey.get(key);
      if (known) return known;
    }
    return this.byUid.get(uid);
  }

  know(keys: string[], uid: string, known: KnownItem): void {
    for (const key of keys) this.byKey.set(key, known);
    this.byUid.set(uid, known);
  }

  stored(keys: string[], uid: string, itemId: number, contentHash: string): void {
    this.know(keys, uid, { itemId, contentHash });
    for (const key of keys) this.pending.push([key, itemId]);
  }

  /** Records an item that is known but not stored (a tombstone from the start); its keys are written by save(). */
  forgotten(keys: string[], uid: string): void {
    this.know(keys, uid, { itemId: null, contentHash: null });
    for (const key of keys) this.pending.push([key, null]);
  }

  async save(): Promise<void> {
    await this.write(this.pending.splice(0));
  }
}
