// The change counters (generation) as this process sees them: every writer bumps them at its commit and notifies
// 'newsloom_changes' (migrations.ts). While a connection of ours LISTENs, the counters are read again only after a
// notification (or a commit of our own) and generation() is otherwise answered from memory; where LISTEN is not
// possible (a read-only standby) or its connection was lost, they are read at most every POLL_MS, so a web replica
// sees another process's commit within a second either way.
import pg from 'pg';
import type { Generation } from '../store.ts';
import type { Sql } from './db.ts';

/** How long counters read without LISTEN are taken as current. */
export const POLL_MS = 500;
const CHANNEL = 'newsloom_changes';
/** Waits between tries to LISTEN again after it failed or its connection was lost. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export class ChangeWatcher {
  private readonly sql: Sql;
  private readonly connect: () => pg.Client;
  private counters: Generation | undefined;
  private readAt = 0;
  /** The counters in memory may be behind: a notification (or a commit of ours) came since they were read. */
  private stale = true;
  private reading: Promise<Generation> | undefined;
  private listener: pg.Client | undefined;
  private listening = false;
  private retryWait = RETRY_FIRST_MS;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(sql: Sql, connect: () => pg.Client) {
    this.sql = sql;
    this.connect = connect;
  }

  /** Whether notifications reach this process (else the counters are polled). */
  get isListening(): boolean {
    return this.listening;
  }

  /** Starts listening; resolves once LISTEN worked or failed (it is tried again later by itself). */
  async listen(): Promise<void> {
    if (this.closed) return;
    const client = this.connect();
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      void client.end().catch(() => {});
      if (this.closed) return;
      this.retry = setTimeout(() => void this.listen(), this.retryWait);
      this.retry.unref();
      this.retryWait = Math.min(this.retryWait * 2, RETRY_MAX_MS);
    };
    client.on('notification', () => (this.stale = true));
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listening = true;
      this.retryWait = RETRY_FIRST_MS;
      // What was committed while nobody listened is read at the next call.
      this.stale = true;
    } catch {
      lost();
    }
  }

  /** After a commit of this process. */
  changed(): void {
    this.stale = true;
  }

  async generation(): Promise<Generation> {
    const current = this.counters && !this.stale && (this.listening || Date.now() - this.readAt < POLL_MS);
    if (current) return this.counters!;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<Generation> {
    // Cleared before reading: a notification that arrives meanwhile makes the next call read again.
    this.stale = false;
    const readAt = Date.now();
    try {
      const [row] = await this.sql.query<{ feeds: number; health: number }>(`SELECT feeds, health FROM generation`);
      this.counters = { feeds: row!.feeds, health: row!.health, search: 'postgres' };
      this.readAt = readAt;
      return this.counters;
    } catch (err) {
      this.stale = true;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    await client?.end().catch(() => {});
  }
}
