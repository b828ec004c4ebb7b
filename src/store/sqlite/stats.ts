// Figures about the database for metrics: its size and how many items carry each topic.
import type { Db } from './db.ts';

/** Bytes of the main database file in use (pages × page size); the WAL is not counted. */
export function databaseBytes(db: Db): number {
  return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}

/** Stored items carrying each topic: the tags applied and still kept. */
export function tagsByTopic(db: Db): { topic: string; count: number }[] {
  return db.prepare<[], { topic: string; count: number }>(`SELECT topic_id AS topic, count(*) AS count FROM item_topics GROUP BY topic_id`).all();
}
