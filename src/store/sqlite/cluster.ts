// The cluster of a SQLite database is one process (one daemon per database: daemon-lock.ts), so its leases, host
// slots and tasks live in this process's memory. They are kept honestly all the same: a claim still takes only due
// sources that nobody holds, a fence still refuses a lease that expired or was released, a host slot still counts.
import { LeaseLostError, type ClusterStore, type HostSlot, type Lease } from '../store.ts';
import type { Db } from './db.ts';

interface HostState {
  slots: Map<number, HostSlot>;
  lastStart: number;
  blockedUntil: number;
}

/** Hosts kept beyond this many are forgotten once idle (as the HostLimiter does). */
const MAX_HOSTS = 4096;

export class MemoryCluster implements ClusterStore {
  private readonly leases = new Map<string, Lease>();
  private readonly hosts = new Map<string, HostState>();
  private readonly tasks = new Map<string, { owner: string; until: number }>();
  private readonly dueTimes;
  private readonly clock: () => number;
  private token = 0;

  constructor(db: Db, clock: () => number = Date.now) {
    this.dueTimes = db.prepare<[string], { id: string; due: number | null }>(
      `SELECT value AS id, (SELECT next_poll_at FROM sources WHERE id = value) AS due FROM json_each(?)`,
    );
    this.clock = clock;
  }

  async claim(owner: string, sourceIds: string[], now: number, leaseMs: number, limit: number): Promise<Lease[]> {
    if (sourceIds.length === 0 || limit <= 0) return [];
    const due = this.dueTimes
      .all(JSON.stringify(sourceIds))
      .filter((row) => (row.due ?? -Infinity) <= now && this.free(row.id, owner, now))
      .sort((a, b) => (a.due ?? -Infinity) - (b.due ?? -Infinity));
    return due.slice(0, limit).map(({ id }) => {
      const held = this.leases.get(id);
      const lease = { sourceId: id, owner, token: held?.owner === owner ? held.token : ++this.token, until: now + leaseMs };
      this.leases.set(id, lease);
      return lease;
    });
  }

  async renew(owner: string, leases: Lease[], now: number, leaseMs: number): Promise<Lease[]> {
    return leases
      .filter((lease) => lease.owner === owner && this.holds(lease) && this.leases.get(lease.sourceId)!.until > now)
      .map((lease) => {
        const renewed = { ...lease, until: now + leaseMs };
        this.leases.set(lease.sourceId, renewed);
        return renewed;
      });
  }

  async release(lease: Lease): Promise<void> {
    if (this.holds(lease)) this.leases.delete(lease.sourceId);
  }

  /** Throws LeaseLostError unless the lease is the current one of its source and its time is not over. */
  fence(lease: Lease): Promise<void> {
    const held = this.leases.get(lease.sourceId);
    if (!this.holds(lease) || held!.until <= this.clock()) return Promise.reject(new LeaseLostError(lease));
    return Promise.resolve();
  }

  async acquireHost(
    owner: string,
    hostKey: string,
    limits: { perHost: number; minGapMs: number },
    now: number,
    leaseMs: number,
  ): Promise<{ slot: HostSlot } | { retryAt: number; blocked?: boolean }> {
    const host = this.host(hostKey);
    if (host.blockedUntil > now) return { retryAt: host.blockedUntil, blocked: true };
    if (host.lastStart + limits.minGapMs > now) return { retryAt: host.lastStart + limits.minGapMs };
    let soonest = Infinity;
    for (const [token, slot] of host.slots) {
      if (slot.until <= now) host.slots.delete(token);
      else soonest = Math.min(soonest, slot.until);
    }
    if (host.slots.size >= limits.perHost) return { retryAt: soonest };
    const slot = { hostKey, owner, token: ++this.token, until: now + leaseMs };
    host.slots.set(slot.token, slot);
    host.lastStart = now;
    return { slot };
  }

  async releaseHost(slot: HostSlot): Promise<void> {
    this.hosts.get(slot.hostKey)?.slots.delete(slot.token);
  }

  async blockHost(hostKey: string, until: number): Promise<void> {
    const host = this.host(hostKey);
    host.blockedUntil = Math.max(host.blockedUntil, until);
  }

  async holdTask(owner: string, task: string, now: number, leaseMs: number): Promise<boolean> {
    const held = this.tasks.get(task);
    if (held && held.owner !== owner && held.until > now) return false;
    this.tasks.set(task, { owner, until: now + leaseMs });
    return true;
  }

  private free(sourceId: string, owner: string, now: number): boolean {
    const held = this.leases.get(sourceId);
    return !held || held.owner === owner || held.until <= now;
  }

  private holds(lease: Lease): boolean {
    const held = this.leases.get(lease.sourceId);
    return held !== undefined && held.owner === lease.owner && held.token === lease.token;
  }

  private host(key: string): HostState {
    let host = this.hosts.get(key);
    if (!host) {
      if (this.hosts.size >= MAX_HOSTS) this.forgetIdle();
      host = { slots: new Map(), lastStart: -Infinity, blockedUntil: 0 };
      this.hosts.set(key, host);
    }
    return host;
  }

  private forgetIdle(): void {
    const now = this.clock();
    for (const [key, host] of this.hosts) {
      if ([...host.slots.values()].every((slot) => slot.until <= now) && host.blockedUntil <= now) this.hosts.delete(key);
    }
  }
}
