// Numbered schema migrations of the PostgreSQL engine, its own set (the SQLite engine's history is not this one's):
// schema_migrations records each applied. They run in one transaction under an advisory lock (db: migrate), so that
// ten processes starting at once migrate once and the others wait, then find nothing left to do. Never edit a
// released migration: append the next number to `migrations`.
import type { Sql } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The advisory lock (one 64-bit key) migrations hold: "newsloom" in ASCII, cut to 63 bits. */
export const MIGRATION_LOCK = 0x6e_6577_736c_6f6fn;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'sources, items and their topics, identity keys, stories, article fetches, meta, change counters',
    statements: [
      `CREATE TABLE sources (
        id text PRIMARY KEY,
        url text NOT NULL,
        title text,
        site_url text,
        etag text,
        last_modified text,
        last_fetch_at bigint,
        last_success_at bigint,
        next_poll_at bigint,
        error_kind text,
        error_message text,
        error_count integer NOT NULL DEFAULT 0,
        first_error_at bigint,
        last_error_at bigint,
        moved_url text,
        redirect_url text,
        redirect_count integer NOT NULL DEFAULT 0,
        ttl_ms bigint
      )`,
      // search: the item's words for full-text search, kept by a trigger (search.ts says what it holds).
      `CREATE TABLE items (
        id bigserial PRIMARY KEY,
        uid text NOT NULL,
        source_id text NOT NULL REFERENCES sources(id),
        guid text,
        url text,
        canonical_url text,
        title text NOT NULL,
        summary_html text NOT NULL,
        content_html text NOT NULL,
        summary_text text NOT NULL,
        content_text text NOT NULL,
        author text,
        categories text NOT NULL,
        image text,
        enclosures text,
        language text,
        published_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        first_seen_at bigint NOT NULL,
        content_hash text NOT NULL,
        search tsvector NOT NULL DEFAULT ''
      )`,
      `CREATE INDEX items_published ON items (published_at DESC, id DESC)`,
      `CREATE INDEX items_source_published ON items (source_id, published_at DESC, id DESC)`,
      `CREATE INDEX items_uid ON items (uid)`,
      `CREATE INDEX items_url ON items (url)`,
      `CREATE INDEX items_canonical_url ON items (canonical_url)`,
      `CREATE INDEX items_search ON items USING gin (search)`,
      // published_at is copied here so that a topic feed is read in order straight from the index.
      `CREATE TABLE item_topics (
        item_id bigint NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        topic_id text NOT NULL,
        published_at bigint NOT NULL,
        matches text NOT NULL,
        PRIMARY KEY (item_id, topic_id)
      )`,
      `CREATE INDEX item_topics_topic ON item_topics (topic_id, published_at DESC, item_id DESC)`,
      `CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE article_fetches (
        item_uid text PRIMARY KEY,
        source_id text NOT NULL,
        url text NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at bigint NOT NULL,
        last_error text
      )`,
      `CREATE INDEX article_fetches_due ON article_fetches (source_id, next_attempt_at)`,
      // Every key an item is recognised by within its source; a tombstone (item_id NULL) once the item is pruned.
      `CREATE TABLE item_keys (
        source_id text NOT NULL,
        key text NOT NULL,
        item_id bigint REFERENCES items(id) ON DELETE SET NULL,
        seen_at bigint NOT NULL,
        PRIMARY KEY (source_id, key)
      )`,
      `CREATE INDEX item_keys_item ON item_keys (item_id, seen_at)`,
      `CREATE TABLE stories (id bigserial PRIMARY KEY, uid text NOT NULL, joined_at bigint)`,
      `CREATE TABLE story_items (
        item_id bigint PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        story_id bigint NOT NULL REFERENCES stories(id),
        source_id text NOT NULL,
        published_at bigint NOT NULL
      )`,
      `CREATE INDEX story_items_story ON story_items (story_id, published_at, item_id, source_id)`,
      // The words of recent reports (sorted 32-bit hashes), and their MinHash band keys (the first key of each band's
      // path, text/stories.ts): every process finds the reports the others filed here, not in a memory of its own.
      `CREATE TABLE story_prints (item_id bigint PRIMARY KEY, published_at bigint NOT NULL, words bytea NOT NULL)`,
      `CREATE TABLE story_bands (
        band bigint NOT NULL,
        published_at bigint NOT NULL,
        item_id bigint NOT NULL,
        story_id bigint NOT NULL,
        source_id text NOT NULL
      )`,
      `CREATE INDEX story_bands_band ON story_bands (band, published_at DESC)`,
      `CREATE INDEX story_bands_published ON story_bands (published_at)`,
      // The words of an item for search: stemmed by its language's configuration and, for exact words, phrases and
      // prefixes, as they are (simple); the title weighs A, the text B. ё is folded to е, as the tagger folds it.
      `CREATE FUNCTION newsloom_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          config regconfig := CASE WHEN lower(NEW.language) LIKE 'ru%' THEN 'russian' WHEN lower(NEW.language) LIKE 'en%' THEN 'english' ELSE 'simple' END;
          title text := translate(NEW.title, 'ёЁ', 'еЕ');
          body text := translate(NEW.summary_text || ' ' || NEW.content_text, 'ёЁ', 'еЕ');
        BEGIN
          NEW.search := setweight(to_tsvector(config, title), 'A') || setweight(to_tsvector(config, body), 'B')
            || setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B');
          RETURN NEW;
        END $$`,
      `CREATE TRIGGER items_search BEFORE INSERT OR UPDATE OF title, summary_text, content_text, language ON items
        FOR EACH ROW EXECUTE FUNCTION newsloom_search_words()`,
      // Two counters: "feeds" moves with anything a feed shows (items, their topics, a source's title or site),
      // "health" with what the index page also shows of sources (fetch times, errors). They are bumped by deferred
      // triggers, once per transaction and at its commit, so the counters' row is locked only while a writer commits
      // (bumped at each write it would make every writer wait for the one before it to commit), and a notification
      // tells the other processes (web replicas) to read them again.
      `CREATE TABLE generation (id integer PRIMARY KEY CHECK (id = 1), feeds bigint NOT NULL, health bigint NOT NULL)`,
      `INSERT INTO generation (id, feeds, health) VALUES (1, 0, 0)`,
      `CREATE FUNCTION newsloom_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF coalesce(current_setting('newsloom.changed_' || TG_ARGV[0], true), '') = '' THEN
            PERFORM set_config('newsloom.changed_' || TG_ARGV[0], '1', true);
            IF TG_ARGV[0] = 'feeds' THEN UPDATE generation SET feeds = feeds + 1; ELSE UPDATE generation SET health = health + 1; END IF;
            PERFORM pg_notify('newsloom_changes', TG_ARGV[0]);
          END IF;
          RETURN NULL;
        END $$`,
      ...[
        ['items_changed', 'INSERT OR UPDATE OR DELETE ON items', 'feeds'],
        ['item_topics_changed', 'INSERT OR DELETE ON item_topics', 'feeds'],
        ['sources_added', 'INSERT OR DELETE ON sources', 'feeds'],
        ['sources_shown', 'UPDATE OF title, site_url, url ON sources', 'feeds'],
        ['sources_health', 'UPDATE OF last_fetch_at, last_success_at, error_kind, error_message, error_count ON sources', 'health'],
      ].map(
        ([name, events, counter]) =>
          `CREATE CONSTRAINT TRIGGER ${name} AFTER ${events} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION newsloom_changed('${counter}')`,
      ),
    ],
  },
];

/** The last version this newsloom knows. */
export const latestVersion = (): number => migrations.at(-1)?.version ?? 0;

/** The versions applied to the database: 0 when it has no schema yet. */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [table] = await sql.query<{ exists: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`);
  if (!table?.exists) return 0;
  const [row] = await sql.query<{ version: number | null }>(`SELECT max(version) AS version FROM schema_migrations`);
  return row?.version ?? 0;
}

/**
 * Applies the migrations the database lacks, in one transaction under MIGRATION_LOCK (sql must be one connection):
 * another process migrating at the same moment holds the lock, and this one reads what is applied once it has it.
 */
export async function migrate(sql: Sql, onMigration: ((migration: { version: number; name: string }) => void) | undefined): Promise<void> {
  await sql.query('BEGIN');
  try {
    await sql.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await sql.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = await schemaVersion(sql);
    const [{ items } = { items: 0 }] = applied > 0 ? await sql.query<{ items: number }>(`SELECT count(*) AS items FROM (SELECT 1 FROM items LIMIT 1) i`) : [];
    for (const migration of migrations.filter((m) => m.version > applied)) {
      if (items > 0) onMigration?.({ version: migration.version, name: migration.name });
      for (const statement of migration.statements) await sql.query(statement);
      await sql.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await sql.query('COMMIT');
  } catch (err) {
    await sql.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
