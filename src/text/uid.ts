// Permanent public ids: name-based UUIDs, so that the same name always gives the same id (entries, feeds).
import { createHash } from 'node:crypto';

// A fixed namespace, so that the same source and identity always give the same UUID (RFC 9562 version 5).
const NAMESPACE = Buffer.from('6f1c1c54a0a54d5c9f3c2a4e0b6d7e11', 'hex');

/** The entry id subscribers see: a name-based UUID of the source and the item's identity, stable forever. */
export function itemUid(sourceId: string, key: string): string {
  const digest = createHash('sha1').update(NAMESPACE).update(`${sourceId}\n${key}`).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
