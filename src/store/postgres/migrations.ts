// Numbered schema migrations of the PostgreSQL engine, its own set (the SQLite engine's history is not this one's):
// schema_migrations records each applied. They run in one transaction under an advisory lock (db: migrate), so that
// ten processes starting at once migrate once and the others wait, then find nothing left to do. Never edit a
// released migration: append the next number to `migrations`.
import { CLUSTER_MIGRATION } from './cluster.ts';
import type { Sql } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The advisory lock of story filing (two 32-bit keys): "NL", "ST" (stories.ts says what it orders). */
export const STORY_LOCK = [0x4e4c_0000, 0x5354] as const;

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
      // The rows a transaction deferred (db.ts, Deferring): its new items with their topics, then its reports filed
      // under their stories, written in one call with the next statement that needs them, or before the commit.
      `CREATE FUNCTION newsloom_flush(pending jsonb) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
          report jsonb;
          story bigint;
        BEGIN
          IF pending IS NULL THEN RETURN; END IF;
          INSERT INTO items SELECT * FROM jsonb_populate_recordset(NULL::items, pending->'items');
          INSERT INTO item_topics (item_id, topic_id, published_at, matches)
            SELECT (item->>'id')::bigint, tag->>0, (item->>'published_at')::bigint, tag->>1
            FROM jsonb_array_elements(pending->'items') AS item, jsonb_array_elements(item->'tags') AS tag;
          FOR report IN SELECT value FROM jsonb_array_elements(pending->'reports') LOOP
            IF report->>'storyId' IS NULL THEN
              INSERT INTO stories (uid) VALUES (report->>'uid') RETURNING id INTO story;
            ELSE
              story := (report->>'storyId')::bigint;
              UPDATE stories SET joined_at = (report->>'now')::bigint WHERE id = story;
            END IF;
            INSERT INTO story_items (item_id, story_id, source_id, published_at)
              VALUES ((report->>'itemId')::bigint, story, report->>'sourceId', (report->>'publishedAt')::bigint);
            INSERT INTO story_prints (item_id, published_at, words)
              VALUES ((report->>'itemId')::bigint, (report->>'publishedAt')::bigint, decode(report->>'words', 'base64'));
            INSERT INTO story_bands (band, published_at, item_id, story_id, source_id)
              SELECT band::bigint, (report->>'publishedAt')::bigint, (report->>'itemId')::bigint, story, report->>'sourceId'
              FROM jsonb_array_elements_text(report->'bands') AS band;
          END LOOP;
        END $$`,
      // The candidates of a report, after writing the rows still pending and taking the lock of story filing
      // (stories.ts). A volatile function's every statement reads a fresh snapshot: the lookup sees what other writers
      // holding that lock committed before they let go.
      `CREATE FUNCTION newsloom_candidates(pending jsonb, lock_bands int[], lock_words int[], keys bigint[], since bigint, until bigint,
          source text, per_band int, compared int)
        RETURNS TABLE (found_item bigint, found_story bigint, found_words bytea) LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM newsloom_flush(pending);
          PERFORM pg_advisory_xact_lock(l.band, l.word) FROM unnest(lock_bands, lock_words) AS l(band, word);
          RETURN QUERY
            SELECT c.item_id, c.story_id, p.words FROM (
              SELECT b.item_id, b.story_id, count(*) AS shared FROM unnest(keys) AS k(band)
              CROSS JOIN LATERAL (SELECT sb.item_id, sb.story_id FROM story_bands sb
                WHERE sb.band = k.band AND sb.published_at BETWEEN since AND until AND sb.source_id <> source
                ORDER BY sb.published_at DESC LIMIT per_band) b
              GROUP BY b.item_id, b.story_id ORDER BY shared DESC, b.item_id LIMIT compared
            ) c JOIN story_prints p ON p.item_id = c.item_id ORDER BY c.shared DESC, c.item_id;
        END $$`,
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
        // A successful poll writes the title, site and address it read, nearly always the stored ones: only a change
        // moves the feeds (else every poll of any source would empty every replica's render cache).
        [
          'sources_shown',
          'UPDATE OF title, site_url, url ON sources',
          'feeds',
          'WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.site_url IS DISTINCT FROM NEW.site_url OR OLD.url IS DISTINCT FROM NEW.url)',
        ],
        ['sources_health', 'UPDATE OF last_fetch_at, last_success_at, error_kind, error_message, error_count ON sources', 'health'],
      ].map(
        ([name, events, counter, when]) =>
          `CREATE CONSTRAINT TRIGGER ${name} AFTER ${events} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${when ?? ''} EXECUTE FUNCTION newsloom_changed('${counter}')`,
      ),
    ],
  },
  {
    version: 2,
    name: 'the cluster: leases on sources, request slots per host, cluster-wide tasks',
    statements: CLUSTER_MIGRATION,
  },
  {
    version: 3,
    name: 'stories matched in memory: story prints in the order their writers committed, no band key rows',
    statements: [
      // Each poller keeps the recent reports' band keys in memory (stories.ts) and, before a lookup, reads the prints
      // filed since it last looked: those with a higher seq. Prints are filed only under the lock of story filing,
      // held until commit, so seqs are handed out in the order their transactions commit, and a reader holding that
      // lock has seen every print below the highest seq it has read. Prints filed before this migration have none:
      // they are read in by date when an index is built.
      `CREATE SEQUENCE story_print_seq`,
      `ALTER TABLE story_prints ADD COLUMN seq bigint`,
      `CREATE INDEX story_prints_seq ON story_prints (seq)`,
      `DROP FUNCTION newsloom_candidates(jsonb, int[], int[], bigint[], bigint, bigint, text, int, int)`,
      `DROP TABLE story_bands`,
      // The rows a transaction deferred (db.ts, Deferring): its new items with their topics, then its reports filed
      // under their stories, a statement for each table, and what was filed (item, story, seq) returned. A report
      // joining a story another process pruned meanwhile starts a story of its own.
      `DROP FUNCTION newsloom_flush(jsonb)`,
      `CREATE FUNCTION newsloom_flush(pending jsonb) RETURNS TABLE (filed_item bigint, filed_story bigint, filed_seq bigint) LANGUAGE plpgsql AS $$
        BEGIN
          IF pending IS NULL THEN RETURN; END IF;
          INSERT INTO items SELECT * FROM jsonb_populate_recordset(NULL::items, pending->'items');
          INSERT INTO item_topics (item_id, topic_id, published_at, matches)
            SELECT (item->>'id')::bigint, tag->>0, (item->>'published_at')::bigint, tag->>1
            FROM jsonb_array_elements(pending->'items') AS item, jsonb_array_elements(item->'tags') AS tag;
          IF jsonb_array_length(pending->'reports') = 0 THEN RETURN; END IF;
          PERFORM pg_advisory_xact_lock(${STORY_LOCK[0]}, ${STORY_LOCK[1]});
          RETURN QUERY
            WITH r AS MATERIALIZED (
              SELECT * FROM jsonb_to_recordset(pending->'reports')
                AS r("itemId" bigint, uid text, "storyId" bigint, "sourceId" text, "publishedAt" bigint, now bigint, words text)
            ), joined AS (
              UPDATE stories s SET joined_at = r.now FROM r WHERE s.id = r."storyId" RETURNING s.id
            ), filed AS MATERIALIZED (
              SELECT r.*, CASE WHEN r."storyId" IN (SELECT id FROM joined) THEN r."storyId" ELSE nextval(pg_get_serial_sequence('stories', 'id')) END AS story
              FROM r
            ), started AS (
              INSERT INTO stories (id, uid) SELECT f.story, f.uid FROM filed f WHERE f.story IS DISTINCT FROM f."storyId"
            ), members AS (
              INSERT INTO story_items (item_id, story_id, source_id, published_at) SELECT f."itemId", f.story, f."sourceId", f."publishedAt" FROM filed f
            ), prints AS (
              INSERT INTO story_prints (item_id, published_at, words, seq)
                SELECT f."itemId", f."publishedAt", decode(f.words, 'base64'), nextval('story_print_seq') FROM filed f
                RETURNING item_id, seq
            )
            SELECT p.item_id, f.story, p.seq FROM prints p JOIN filed f ON f."itemId" = p.item_id ORDER BY p.seq;
        END $$`,
      // The reports filed since a reader last looked (seq above \`after\`), or, to build its index (\`after\` null), those
      // published since \`since\` preceded by a row holding only the highest seq: after writing the rows still pending
      // and taking the lock of story filing (stories.ts). A volatile function's every statement reads a fresh
      // snapshot: the reads see what other writers holding that lock committed before they let go.
      `CREATE FUNCTION newsloom_reports(pending jsonb, after bigint, since bigint)
        RETURNS TABLE (found_item bigint, found_story bigint, found_source text, found_published bigint, found_words bytea, found_seq bigint)
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM newsloom_flush(pending);
          PERFORM pg_advisory_xact_lock(${STORY_LOCK[0]}, ${STORY_LOCK[1]});
          -- Planned for the value of after (EXECUTE): a generic plan took a third of story_prints for seq > after.
          IF after IS NULL THEN
            RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, NULL::bytea, coalesce(max(seq), 0) FROM story_prints;
            RETURN QUERY SELECT p.item_id, m.story_id, m.source_id, p.published_at, p.words, p.seq
              FROM story_prints p JOIN story_items m ON m.item_id = p.item_id WHERE p.published_at >= since;
          ELSE
            RETURN QUERY EXECUTE 'SELECT p.item_id, m.story_id, m.source_id, p.published_at, p.words, p.seq
              FROM story_prints p JOIN story_items m ON m.item_id = p.item_id WHERE p.seq > $1 ORDER BY p.seq' USING after;
          END IF;
        END $$`,
    ],
  },
  {
    version: 4,
    name: 'search words kept beside the items and written after the poll that stored them (a queue of items to index)',
    statements: [
      // An item's words for search (search.ts says what they hold), computed by newsloom_words: what the trigger of
      // migration 1 wrote into items.search in the transaction that stored the item. A poll paid for them there (four
      // to_tsvector and the GIN index: most of the server's time of a poll); now the items a transaction stores or
      // edits are queued (search_pending, by triggers) and a writer process indexes them after the commit, on a
      // connection of its own (search-indexer.ts). A search reads item_search for the indexed items and computes the
      // words of the queued ones, so it finds every committed item whether indexed yet or not.
      `CREATE FUNCTION newsloom_words(language text, title text, body text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector(c, t), 'A') || setweight(to_tsvector(c, b), 'B')
          || setweight(to_tsvector('simple', t), 'A') || setweight(to_tsvector('simple', b), 'B')
        FROM (SELECT CASE WHEN lower(language) LIKE 'ru%' THEN 'russian' WHEN lower(language) LIKE 'en%' THEN 'english' ELSE 'simple' END::regconfig AS c,
          translate(title, 'ёЁ', 'еЕ') AS t, translate(body, 'ёЁ', 'еЕ') AS b) w
      $$`,
      `CREATE TABLE item_search (item_id bigint PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE, search tsvector NOT NULL)`,
      // The words already computed move over as they are; the GIN index is built once they are in.
      `INSERT INTO item_search (item_id, search) SELECT id, search FROM items`,
      `CREATE INDEX item_search_words ON item_search USING gin (search)`,
      `DROP TRIGGER items_search ON items`,
      `DROP FUNCTION newsloom_search_words()`,
      `ALTER TABLE items DROP COLUMN search`,
      // Items whose words are not (or no longer) those in item_search. No foreign key: a queued item pruned before it
      // is indexed leaves a row the indexer drops.
      `CREATE TABLE search_pending (item_id bigint PRIMARY KEY)`,
      // New items, a statement at a time (a flush inserts a poll's items with one statement).
      `CREATE FUNCTION newsloom_queue_new() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO search_pending (item_id) SELECT id FROM new_items ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER items_search_new AFTER INSERT ON items REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION newsloom_queue_new()`,
      // An edit of what the words are made of.
      `CREATE FUNCTION newsloom_queue_edited() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO search_pending (item_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER items_search_edited AFTER UPDATE OF title, summary_text, content_text, language ON items FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary_text IS DISTINCT FROM NEW.summary_text
          OR OLD.content_text IS DISTINCT FROM NEW.content_text OR OLD.language IS DISTINCT FROM NEW.language)
        EXECUTE FUNCTION newsloom_queue_edited()`,
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
