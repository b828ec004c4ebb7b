// Small facts about the database kept between runs, by key (such as the hash of the topic rules
// that the stored tags were computed with).
import type { MetaStore as Meta } from '../store.ts';
import type { Db } from './db.ts';

export class MetaStore implements Meta {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      get: db.prepare<[string], { value: string }>(`SELECT value FROM meta WHERE key = ?`),
      set: db.prepare<[string, string]>(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
  }

  async get(key: string): Promise<string | undefined> {
    return this.statements.get.get(key)?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.statements.set.run(key, value);
  }
}
