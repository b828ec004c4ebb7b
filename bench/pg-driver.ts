// The two PostgreSQL drivers on newsloom's ingest path: 20,000 item-like rows inserted in transactions of 100 (a
// poll's commit), each with a row in a second table and an upsert of a key (the index writes of a stored item), then
// a 50-row page read with parameters, 200 times. Prints wall time per driver; ARCHITECTURE.md keeps the figures.
//   node bench/pg-driver.ts [postgres://postgres@127.0.0.1:5432/postgres]
import pg from 'pg';
import postgres from 'postgres';

const base = process.argv[2] ?? process.env.NEWSLOOM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ITEMS = 20_000;
const PER_TRANSACTION = 100;
const PAGES = 200;

const SCHEMA = [
  `DROP TABLE IF EXISTS bench_items, bench_keys`,
  `CREATE TABLE bench_items (id bigserial PRIMARY KEY, source_id text NOT NULL, title text NOT NULL, body text NOT NULL, published_at bigint NOT NULL)`,
  `CREATE INDEX bench_items_published ON bench_items (published_at DESC, id DESC)`,
  `CREATE TABLE bench_keys (source_id text NOT NULL, key text NOT NULL, item_id bigint, PRIMARY KEY (source_id, key))`,
];
const INSERT = `INSERT INTO bench_items (source_id, title, body, published_at) VALUES ($1, $2, $3, $4) RETURNING id`;
const KEY = `INSERT INTO bench_keys (source_id, key, item_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;
const PAGE = `SELECT id, source_id, title, body, published_at FROM bench_items WHERE source_id = $1 AND published_at < $2 ORDER BY published_at DESC, id DESC LIMIT 50`;

const body = 'Lorem ipsum dolor sit amet, '.repeat(40);
const row = (i: number) => [`source-${i % 50}`, `Title of item ${i}`, body, 1_700_000_000_000 + i * 1000];

interface Driver {
  name: string;
  exec(sql: string): Promise<void>;
  /** One transaction of these rows; each insert then its key, as storeItems does. */
  batch(rows: (string | number)[][]): Promise<void>;
  page(source: string, before: number): Promise<number>;
  close(): Promise<void>;
}

function porsager(): Driver {
  const sql = postgres(base, { max: 4, onnotice: () => {} });
  return {
    name: `postgres ${process.env.npm_package_dependencies_postgres ?? ''}`.trim(),
    exec: async (text) => void (await sql.unsafe(text)),
    batch: async (rows) => {
      await sql.begin(async (tx) => {
        for (const r of rows) {
          const [inserted] = await tx.unsafe<{ id: string }[]>(INSERT, r, { prepare: true });
          await tx.unsafe(KEY, [r[0]!, `guid:${r[1]}`, inserted!.id], { prepare: true });
        }
      });
    },
    page: async (source, before) => (await sql.unsafe(PAGE, [source, before], { prepare: true })).length,
    close: () => sql.end(),
  };
}

function nodePg(): Driver {
  const pool = new pg.Pool({ connectionString: base, max: 4 });
  return {
    name: 'pg',
    exec: async (text) => void (await pool.query(text)),
    batch: async (rows) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const r of rows) {
          const inserted = await client.query<{ id: string }>({ name: 'insert', text: INSERT, values: r });
          await client.query({ name: 'key', text: KEY, values: [r[0], `guid:${r[1]}`, inserted.rows[0]!.id] });
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    page: async (source, before) => (await pool.query({ name: 'page', text: PAGE, values: [source, before] })).rowCount ?? 0,
    close: () => pool.end(),
  };
}

async function measure(driver: Driver): Promise<void> {
  for (const statement of SCHEMA) await driver.exec(statement);
  const cpu = process.cpuUsage();
  let start = performance.now();
  for (let i = 0; i < ITEMS; i += PER_TRANSACTION) await driver.batch(Array.from({ length: PER_TRANSACTION }, (_, j) => row(i + j)));
  const ingest = performance.now() - start;
  const ingestCpu = process.cpuUsage(cpu);
  start = performance.now();
  let read = 0;
  for (let i = 0; i < PAGES; i++) read += await driver.page(`source-${i % 50}`, 1_700_000_000_000 + ITEMS * 1000 - i * 10_000);
  const pages = performance.now() - start;
  console.log(
    `${driver.name.padEnd(16)} ingest ${ITEMS} rows: ${ingest.toFixed(0)} ms (${((ITEMS / ingest) * 1000).toFixed(0)} rows/s, ` +
      `client CPU ${((ingestCpu.user + ingestCpu.system) / 1000).toFixed(0)} ms)  page of 50: ${(pages / PAGES).toFixed(2)} ms (${read} rows read)`,
  );
  await driver.exec(`DROP TABLE bench_items, bench_keys`);
  await driver.close();
}

for (const make of [porsager, nodePg, porsager, nodePg]) await measure(make());
