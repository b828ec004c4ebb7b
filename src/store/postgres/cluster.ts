// The cluster on PostgreSQL: leases on sources, request slots per host and cluster-wide tasks, in tables that every
// poller of the database shares. Driver-neutral: it speaks to PostgreSQL through PgQuery, which the engine adapts
// from its driver.
//
// Assumes the engine's `sources(id text PRIMARY KEY, next_poll_at bigint, …)` table (epoch ms, as on SQLite): a claim
// joins it by that name to know which sources are due. Times are epoch ms in the callers' clocks (bigint columns), so
// the pollers' clocks should agree (NTP) to within a small part of a lease and of host_gap.
import { LeaseLostError, type ClusterStore, type HostSlot, type Lease } from '../store.ts';

/** What the cluster needs of a PostgreSQL driver: a query with $1… parameters, and a transaction on one connection. */
export interface PgQuery {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  begin<T>(fn: (tx: PgQuery) => Promise<T>): Promise<T>;
}

/** The cluster's tables, sequence and index, one statement each (a migration of the engine's numbered set). */
export const CLUSTER_MIGRATION: string[] = [
  // Fencing tokens of leases and host slots: every new one is larger than any before it.
  `CREATE SEQUENCE cluster_tokens`,
  // One row per source ever claimed; a released lease keeps its row (owner '', until 0), so that claims lock rows.
  `CREATE TABLE source_leases (source_id text PRIMARY KEY, owner text NOT NULL, token bigint NOT NULL, until bigint NOT NULL)`,
  `CREATE TABLE hosts (host_key text PRIMARY KEY, last_start bigint NOT NULL DEFAULT 0, blocked_until bigint NOT NULL DEFAULT 0)`,
  // A request in flight; a killed process's rows stop counting at their `until` and are deleted by the next acquire.
  `CREATE TABLE host_slots (token bigint PRIMARY KEY, host_key text NOT NULL, owner text NOT NULL, until bigint NOT NULL)`,
  `CREATE INDEX host_slots_by_host ON host_slots (host_key, until)`,
  `CREATE TABLE cluster_tasks (task text PRIMARY KEY, owner text NOT NULL, until bigint NOT NULL)`,
];

/** When a host is full, how soon to ask again (a slot is usually released when its body has been read, long before its `until`). */
const FULL_RETRY_MS = 100;
/** When another process is deciding about the same host at this moment, how soon to ask again. */
const BUSY_RETRY_MS = 10;

type Row = Record<string, string | number | null>;

/** The cluster over `db`, fencing with `now` (the daemon's clock); `fence` runs in the engine's transaction `tx`. */
export function pgCluster(db: PgQuery, now: () => number = Date.now): ClusterStore & { fence(tx: PgQuery, lease: Lease): Promise<void> } {
  return {
    async claim(owner, sourceIds, at, leaseMs, limit) {
      if (sourceIds.length === 0 || limit <= 0) return [];
      const ids = [...new Set(sourceIds)].sort();
      // The due sources get a lease row first (in its own statement, in one order, so that concurrent claims do not
      // wait on each other's uncommitted inserts), so that the claim below has rows to lock.
      await db.query(
        `INSERT INTO source_leases (source_id, owner, token, until)
         SELECT u.id, '', 0, 0 FROM unnest($1::text[]) AS u(id) LEFT JOIN sources s ON s.id = u.id
         WHERE (s.next_poll_at IS NULL OR s.next_poll_at <= $2) AND NOT EXISTS (SELECT 1 FROM source_leases l WHERE l.source_id = u.id)
         ORDER BY u.id
         ON CONFLICT (source_id) DO NOTHING`,
        [ids, at],
      );
      // Rows another poller is claiming or fencing are skipped, not waited for: each claimer gets sources of its own.
      const rows = await db.query<Row>(
        `WITH picked AS (
           SELECT l.source_id FROM source_leases l LEFT JOIN sources s ON s.id = l.source_id
           WHERE l.source_id = ANY($1::text[]) AND (s.next_poll_at IS NULL OR s.next_poll_at <= $2) AND (l.until <= $2 OR l.owner = $3)
           ORDER BY s.next_poll_at NULLS FIRST, l.source_id
           LIMIT $4
           FOR UPDATE OF l SKIP LOCKED
         )
         UPDATE source_leases l
         SET token = CASE WHEN l.owner = $3 THEN l.token ELSE nextval('cluster_tokens') END, owner = $3, until = $2::bigint + $5::bigint
         FROM picked WHERE l.source_id = picked.source_id
         RETURNING l.source_id, l.owner, l.token, l.until`,
        [ids, at, owner, limit, leaseMs],
      );
      return rows.map((row) => ({ sourceId: String(row.source_id), owner: String(row.owner), token: Number(row.token), until: Number(row.until) }));
    },

    async renew(owner, leases, at, leaseMs) {
      const held = leases.filter((lease) => lease.owner === owner);
      if (held.length === 0) return [];
      // A plain UPDATE of a column no key holds (FOR NO KEY UPDATE): it does not wait for the poll's own fenced writes,
      // which hold the row FOR KEY SHARE, however long the group commit they are in takes.
      const rows = await db.query<Row>(
        `UPDATE source_leases l SET until = $3::bigint + $4::bigint
         FROM unnest($1::text[], $2::bigint[]) AS r(source_id, token)
         WHERE l.source_id = r.source_id AND l.token = r.token AND l.owner = $5 AND l.until > $3
         RETURNING l.source_id, l.owner, l.token, l.until`,
        [held.map((lease) => lease.sourceId), held.map((lease) => lease.token), at, leaseMs, owner],
      );
      return rows.map((row) => ({ sourceId: String(row.source_id), owner: String(row.owner), token: Number(row.token), until: Number(row.until) }));
    },

    async release(lease) {
      await db.query(`UPDATE source_leases SET owner = '', until = 0 WHERE source_id = $1 AND owner = $2 AND token = $3`, [lease.sourceId, lease.owner, lease.token]);
    },

    async fence(tx, lease) {
      // FOR KEY SHARE: a claim (FOR UPDATE SKIP LOCKED) passes this row by until the poll's transaction ends, while the
      // poller's renewals (an UPDATE of `until`) go on: under FOR SHARE they waited for the whole group commit, the
      // heartbeat with them, and the leases of every other poll in flight ran out meanwhile.
      const rows = await tx.query<Row>(`SELECT until FROM source_leases WHERE source_id = $1 AND owner = $2 AND token = $3 FOR KEY SHARE`, [
        lease.sourceId,
        lease.owner,
        lease.token,
      ]);
      if (rows.length === 0 || Number(rows[0]!.until) <= now()) throw new LeaseLostError(lease);
    },

    acquireHost(owner, hostKey, limits, at, leaseMs) {
      return db.begin(async (tx) => {
        // One acquirer of a host at a time, across processes; released at the end of this transaction. Tried, not waited
        // for: a request waiting here would hold a connection of its pool, and with many polls waiting for a busy host
        // the pool had none left for the scheduler's renewals, so leases of polls in flight ran out.
        const [lock] = await tx.query<Row>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS got`, [hostKey]);
        if (!lock?.got) return { retryAt: at + BUSY_RETRY_MS };
        // The host's state and, when it is free (not blocked, past its gap, below per_host), a slot and its start.
        const [row] = await tx.query<Row>(
          `WITH gone AS (DELETE FROM host_slots WHERE host_key = $1 AND until <= $2),
           state AS (
             SELECT coalesce(h.last_start, 0) AS last_start, coalesce(h.blocked_until, 0) AS blocked_until,
                    (SELECT count(*) FROM host_slots WHERE host_key = $1 AND until > $2) AS active,
                    (SELECT min(until) FROM host_slots WHERE host_key = $1 AND until > $2) AS soonest
             FROM (VALUES (1)) AS one (x) LEFT JOIN hosts h ON h.host_key = $1
           ),
           free AS (SELECT 1 FROM state WHERE blocked_until <= $2 AND last_start + $3::bigint <= $2 AND active < $4),
           started AS (
             INSERT INTO hosts (host_key, last_start) SELECT $1, $2 FROM free
             ON CONFLICT (host_key) DO UPDATE SET last_start = EXCLUDED.last_start
           ),
           slot AS (
             INSERT INTO host_slots (token, host_key, owner, until) SELECT nextval('cluster_tokens'), $1, $5, $2::bigint + $6::bigint FROM free
             RETURNING token, until
           )
           SELECT state.*, slot.token, slot.until FROM state LEFT JOIN slot ON true`,
          [hostKey, at, limits.minGapMs, limits.perHost, owner, leaseMs],
        );
        const state = row!;
        if (state.token !== null) return { slot: { hostKey, owner, token: Number(state.token), until: Number(state.until) } satisfies HostSlot };
        const blockedUntil = Number(state.blocked_until);
        if (blockedUntil > at) return { retryAt: blockedUntil, blocked: true };
        const gapEnds = Number(state.last_start) + limits.minGapMs;
        if (gapEnds > at) return { retryAt: gapEnds };
        return { retryAt: Math.min(at + FULL_RETRY_MS, Number(state.soonest)) };
      });
    },

    async releaseHost(slot) {
      await db.query(`DELETE FROM host_slots WHERE token = $1`, [slot.token]);
    },

    async blockHost(hostKey, until) {
      await db.query(
        `INSERT INTO hosts (host_key, blocked_until) VALUES ($1, $2)
         ON CONFLICT (host_key) DO UPDATE SET blocked_until = greatest(hosts.blocked_until, EXCLUDED.blocked_until)`,
        [hostKey, until],
      );
    },

    async holdTask(owner, task, at, leaseMs) {
      // The upsert locks the row: of two processes asking at once, the second sees the first's lease and gets nothing.
      const rows = await db.query<Row>(
        `INSERT INTO cluster_tasks (task, owner, until) VALUES ($1, $2, $3::bigint + $4::bigint)
         ON CONFLICT (task) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
         WHERE cluster_tasks.owner = EXCLUDED.owner OR cluster_tasks.until <= $3
         RETURNING owner`,
        [task, owner, at, leaseMs],
      );
      return rows.length > 0;
    },
  };
}
