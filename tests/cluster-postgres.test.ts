// The cluster on a real PostgreSQL (src/store/postgres/cluster.ts): leases claimed by concurrent pollers, fencing,
// host slots shared by several processes, Retry-After blocks and cluster-wide tasks. Each "process" is a pool of its
// own connections. Skipped, saying so, without NEWSLOOM_TEST_DATABASE_URL (a base URL such as
// postgres://postgres@127.0.0.1:5432/postgres): the test makes a database of its own from it and drops it after.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER_MIGRATION, pgCluster, type PgQuery } from '../src/store/postgres/cluster.ts';
import { LeaseLostError, type Lease } from '../src/store/store.ts';

const BASE_URL = process.env.NEWSLOOM_TEST_DATABASE_URL;
const suite = BASE_URL ? describe : describe.skip;
const title = BASE_URL
  ? 'the cluster on PostgreSQL'
  : 'the cluster on PostgreSQL (skipped: set NEWSLOOM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run it)';

type Cluster = ReturnType<typeof pgCluster>;

/** PgQuery over the postgres package: queries as they are, transactions (savepoints inside one). */
function adapterOf(sql: postgres.Sql): PgQuery {
  return { query: queryOf(sql), begin: <T>(fn: (tx: PgQuery) => Promise<T>) => sql.begin((tx) => fn(txAdapterOf(tx))) as Promise<T> };
}

function txAdapterOf(tx: postgres.TransactionSql): PgQuery {
  return { query: queryOf(tx), begin: <T>(fn: (inner: PgQuery) => Promise<T>) => tx.savepoint((inner) => fn(txAdapterOf(inner))) as Promise<T> };
}

function queryOf(sql: postgres.Sql | postgres.TransactionSql): PgQuery['query'] {
  return async <T>(text: string, params: unknown[] = []) => (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
}

suite(title, () => {
  const database = `newsloom_cluster_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const pools: postgres.Sql[] = [];
  let admin: postgres.Sql;
  let clock = 1_000_000;
  const now = () => clock;

  /** A pool of its own: one poller process. */
  const processPool = (max = 4) => {
    const url = new URL(BASE_URL!);
    url.pathname = `/${database}`;
    const sql = postgres(url.href, { max, onnotice: () => {} });
    pools.push(sql);
    return sql;
  };
  const processes = (count: number) => Array.from({ length: count }, () => adapterOf(processPool()));
  const clusters = (count: number) => processes(count).map((p): Cluster => pgCluster(p, now)) as [Cluster, Cluster, Cluster];

  beforeAll(async () => {
    admin = postgres(BASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${database}`);
    const db = adapterOf(processPool(1));
    // The engine's sources table, as far as a claim reads it.
    await db.query(`CREATE TABLE sources (id text PRIMARY KEY, next_poll_at bigint)`);
    await db.query(`CREATE TABLE writes (source_id text NOT NULL, what text NOT NULL)`);
    for (const statement of CLUSTER_MIGRATION) await db.query(statement);
  });

  afterAll(async () => {
    for (const sql of pools) await sql.end();
    await admin?.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin?.end();
  });

  let db: PgQuery;
  beforeEach(async () => {
    clock = 1_000_000;
    db = adapterOf(pools[0]!);
    await db.query(`TRUNCATE sources, writes, source_leases, hosts, host_slots, cluster_tasks`);
  });

  const addSources = async (count: number, nextPollAt: number | null = null) => {
    const ids = Array.from({ length: count }, (_, i) => `feed-${String(i).padStart(3, '0')}`);
    await db.query(`INSERT INTO sources (id, next_poll_at) SELECT unnest($1::text[]), $2`, [ids, nextPollAt]);
    return ids;
  };

  it('gives three pollers claiming at once disjoint sources, every due source to one of them', async () => {
    const ids = await addSources(60);
    await db.query(`INSERT INTO sources (id, next_poll_at) VALUES ('later', $1)`, [clock + 60_000]);
    const pollers = clusters(3);
    for (let round = 0; round < 3; round++) {
      // Other pollers each round: a poller's own claim of a source it holds renews its lease.
      const claims = await Promise.all(pollers.map((cluster, i) => cluster.claim(`poller-${round}-${i}`, [...ids, 'later'], clock, 60_000, 25)));
      const claimed = claims.flat().map((lease) => lease.sourceId);
      expect(new Set(claimed).size).toBe(claimed.length);
      for (const claim of claims) expect(claim.length).toBeLessThanOrEqual(25);
      if (round === 0) {
        expect(claimed.sort()).toEqual(ids);
      } else {
        // Everything due is leased already: nobody gets a source again while its lease holds.
        expect(claimed).toEqual([]);
      }
    }
  });

  it('lets another poller claim a source whose lease was not renewed once it ends, with a larger token', async () => {
    const [id] = await addSources(1);
    const [a, b] = clusters(2);
    const [first] = await a.claim('a', [id!], clock, 1_000, 10);
    expect(first).toMatchObject({ sourceId: id, owner: 'a', until: clock + 1_000 });
    expect(await b.claim('b', [id!], clock + 999, 1_000, 10)).toEqual([]);
    // Its owner renews it by claiming it again: the same token, a later end.
    const [renewed] = await a.claim('a', [id!], clock + 500, 1_000, 10);
    expect(renewed).toEqual({ ...first, until: clock + 1_500 });
    const [taken] = await b.claim('b', [id!], clock + 1_500, 1_000, 10);
    expect(taken).toMatchObject({ sourceId: id, owner: 'b' });
    expect(taken!.token).toBeGreaterThan(first!.token);
  });

  it('refuses a released lease, and claims nothing that is not due', async () => {
    const [id] = await addSources(1, clock + 10_000);
    const cluster = pgCluster(processes(1)[0]!, now);
    expect(await cluster.claim('a', [id!], clock, 1_000, 10)).toEqual([]);
    const [lease] = await cluster.claim('a', [id!], clock + 10_000, 1_000, 10);
    await cluster.release(lease!);
    clock += 10_000;
    await expect(db.begin((tx) => cluster.fence(tx, lease!))).rejects.toThrow(LeaseLostError);
  });

  /** Writes a row for the lease's source after fencing it, in one transaction: what a poll's write does. */
  const fencedInsert = (cluster: Cluster, conn: PgQuery, lease: Lease, what: string) =>
    conn.begin(async (tx) => {
      await tx.query(`INSERT INTO writes (source_id, what) VALUES ($1, $2)`, [lease.sourceId, what]);
      await cluster.fence(tx, lease);
    });
  const written = async () => (await db.query<{ what: string }>(`SELECT what FROM writes ORDER BY what`)).map((row) => row.what);

  it('fences a write: after its lease expired, or was taken over, it throws and nothing of it stays', async () => {
    const [id] = await addSources(1);
    const [pa, pb] = processes(2);
    const a = pgCluster(pa!, now);
    const b = pgCluster(pb!, now);
    const [lease] = await a.claim('a', [id!], clock, 1_000, 10);
    await fencedInsert(a, pa!, lease!, 'in time');
    clock += 1_000;
    await expect(fencedInsert(a, pa!, lease!, 'expired')).rejects.toThrow(LeaseLostError);
    const [taken] = await b.claim('b', [id!], clock, 1_000, 10);
    clock -= 500;
    // Its end is not reached on this clock, but the source is another poller's now.
    await expect(fencedInsert(a, pa!, lease!, 'taken over')).rejects.toThrow(LeaseLostError);
    await fencedInsert(b, pb!, taken!, 'new owner');
    expect(await written()).toEqual(['in time', 'new owner']);
  });

  it('renews a lease while its own fenced write holds the row, and not one another poller took', async () => {
    const [id] = await addSources(1);
    const [pa, pb] = processes(2);
    const a = pgCluster(pa!, now);
    const b = pgCluster(pb!, now);
    const [lease] = await a.claim('a', [id!], clock, 1_000, 10);
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    let fenced!: () => void;
    const inside = new Promise<void>((resolve) => (fenced = resolve));
    const writing = pa!.begin(async (tx) => {
      await a.fence(tx, lease!);
      fenced();
      await held;
    });
    await inside;
    // The poll's write holds the lease row FOR KEY SHARE: a renewal goes through meanwhile (a claim skips the row).
    const [renewed] = await a.renew('a', [lease!], clock + 600, 1_000);
    expect(await b.claim('b', [id!], clock + 1_100, 1_000, 10), 'the old end passed, but the write still holds the row').toEqual([]);
    finish();
    await writing;
    expect(renewed).toEqual({ ...lease!, until: clock + 1_600 });
    const [taken] = await b.claim('b', [id!], clock + 1_600, 1_000, 10);
    expect(taken?.owner).toBe('b');
    expect(await a.renew('a', [renewed!], clock + 1_700, 1_000)).toEqual([]);
  });

  it('keeps a fenced lease from being claimed until the fencing transaction ends', async () => {
    const [id] = await addSources(1);
    const [pa, pb] = processes(2);
    const a = pgCluster(pa!, now);
    const b = pgCluster(pb!, now);
    const [lease] = await a.claim('a', [id!], clock, 1_000, 10);
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let fenced!: () => void;
    const isFenced = new Promise<void>((resolve) => (fenced = resolve));
    const writing = pa!.begin(async (tx) => {
      await a.fence(tx, lease!);
      fenced();
      await held;
      await tx.query(`INSERT INTO writes (source_id, what) VALUES ($1, 'stalled but fenced')`, [id]);
    });
    await isFenced;
    // The lease ends meanwhile; another poller's claim passes the locked row by instead of waiting for it.
    expect(await b.claim('b', [id!], clock + 5_000, 1_000, 10)).toEqual([]);
    commit();
    await writing;
    expect(await b.claim('b', [id!], clock + 5_000, 1_000, 10)).toHaveLength(1);
    expect(await written()).toEqual(['stalled but fenced']);
  });

  it('never lets three processes send one host more than per_host requests at once, nor two starts closer than host_gap', async () => {
    const limits = { perHost: 2, minGapMs: 15 };
    const hosts = processes(3).map((p) => pgCluster(p));
    let inFlight = 0;
    let most = 0;
    const starts: number[] = [];
    const worker = async (cluster: Cluster, owner: string) => {
      for (let done = 0; done < 4; ) {
        const at = Date.now();
        const answer = await cluster.acquireHost(owner, 'feeds.test:80', limits, at, 60_000);
        if (!('slot' in answer)) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(answer.retryAt - Date.now(), 1)));
          continue;
        }
        starts.push(at);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        await cluster.releaseHost(answer.slot);
        done++;
      }
    };
    await Promise.all(hosts.flatMap((cluster, p) => Array.from({ length: 4 }, (_, w) => worker(cluster, `process-${p}:${w}`))));
    expect(starts).toHaveLength(48);
    expect(most).toBeLessThanOrEqual(limits.perHost);
    const sorted = starts.sort((x, y) => x - y);
    const gaps = sorted.slice(1).map((start, i) => start - sorted[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(limits.minGapMs);
    expect(await db.query(`SELECT * FROM host_slots`)).toEqual([]);
  });

  it("counts a killed process's slot until its end, then no more", async () => {
    const [a, b] = clusters(2);
    const limits = { perHost: 1, minGapMs: 0 };
    expect(await a.acquireHost('a', 'feeds.test:80', limits, clock, 1_000)).toHaveProperty('slot');
    // Never released: its process died.
    const waiting = await b.acquireHost('b', 'feeds.test:80', limits, clock + 500, 1_000);
    expect(waiting).toHaveProperty('retryAt');
    expect((waiting as { retryAt: number }).retryAt).toBeLessThanOrEqual(clock + 1_000);
    expect(await b.acquireHost('b', 'feeds.test:80', limits, clock + 1_000, 1_000)).toHaveProperty('slot');
  });

  it("shows a host's Retry-After to every process, and only for that host:port", async () => {
    const [a, b] = clusters(2);
    const limits = { perHost: 2, minGapMs: 0 };
    await a.blockHost('feeds.test:80', clock + 60_000);
    await a.blockHost('feeds.test:80', clock + 30_000);
    expect(await b.acquireHost('b', 'feeds.test:80', limits, clock, 1_000)).toEqual({ retryAt: clock + 60_000, blocked: true });
    expect(await b.acquireHost('b', 'feeds.test:8080', limits, clock, 1_000)).toHaveProperty('slot');
    expect(await b.acquireHost('b', 'feeds.test:80', limits, clock + 60_000, 1_000)).toHaveProperty('slot');
  });

  it('gives a cluster-wide task to one owner at a time, until its lease ends', async () => {
    const [a, b, c] = clusters(3);
    const first = await Promise.all([a.holdTask('a', 'housekeeping', clock, 1_000), b.holdTask('b', 'housekeeping', clock, 1_000), c.holdTask('c', 'housekeeping', clock, 1_000)]);
    expect(first.filter(Boolean)).toHaveLength(1);
    const holder = ['a', 'b', 'c'][first.indexOf(true)]!;
    const other = holder === 'a' ? 'b' : 'a';
    const byOwner = { a, b, c } as Record<string, Cluster>;
    expect(await byOwner[holder]!.holdTask(holder, 'housekeeping', clock + 900, 1_000)).toBe(true);
    expect(await byOwner[other]!.holdTask(other, 'housekeeping', clock + 1_800, 1_000)).toBe(false);
    // Another task is another lease.
    expect(await byOwner[other]!.holdTask(other, 'retag', clock + 1_800, 1_000)).toBe(true);
    expect(await byOwner[other]!.holdTask(other, 'housekeeping', clock + 1_900, 1_000)).toBe(true);
    expect(await byOwner[holder]!.holdTask(holder, 'housekeeping', clock + 2_000, 1_000)).toBe(false);
  });
});
