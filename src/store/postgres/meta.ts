// Small facts about the database kept between runs, by key (such as the hash of the topic rules the tags were computed with).
import type { MetaStore as Meta } from '../store.ts';
import type { Sql } from './db.ts';

export class MetaStore implements Meta {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.sql.query<{ value: string }>(`SELECT value FROM meta WHERE key = $1`, [key]))[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.sql.query(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
  }
}
