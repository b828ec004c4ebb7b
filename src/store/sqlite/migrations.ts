// Numbered schema migrations, applied in order at start; PRAGMA user_version records the last one applied.
// Never edit a released migration: add the next number.

export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'sources, items, item topics',
    sql: `
      CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        title TEXT,
        site_url TEXT,
        etag TEXT,
        last_modified TEXT,
        last_fetch_at INTEGER,
        last_success_at INTEGER,
        next_poll_at INTEGER,
        error_kind TEXT,
        error_message TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        first_error_at INTEGER,
        last_error_at INTEGER
      ) STRICT;

      CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        source_id TEXT NOT NULL REFERENCES sources(id),
        guid TEXT,
        url TEXT,
        canonical_url TEXT,
        title TEXT NOT NULL,
        summary_html TEXT NOT NULL,
        content_html TEXT NOT NULL,
        summary_text TEXT NOT NULL,
        content_text TEXT NOT NULL,
        author TEXT,
        categories TEXT NOT NULL,
        image TEXT,
        language TEXT,
        published_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        first_seen_at INTEGER NOT NULL,
        content_hash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX items_source_guid ON items(source_id, guid) WHERE guid IS NOT NULL;
      CREATE INDEX items_source_url ON items(source_id, canonical_url) WHERE canonical_url IS NOT NULL;
      CREATE INDEX items_published ON items(published_at DESC, id DESC);
      CREATE INDEX items_source_published ON items(source_id, published_at DESC, id DESC);

      -- published_at is copied here so that a topic feed is read in order straight from the index.
      CREATE TABLE item_topics (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        topic_id TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        matches TEXT NOT NULL,
        PRIMARY KEY (item_id, topic_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX item_topics_topic ON item_topics(topic_id, published_at DESC, item_id DESC);
    `,
  },
  {
    version: 2,
    name: 'meta: small facts about the database, such as the hash of the topic rules its tags were computed with',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'pending article fetches',
    // Items of full-text sources whose article could not be fetched yet. Keyed by the item's uid rather than
    // its row, because the row is written after the fetch is tried; no foreign key for the same reason.
    sql: `
      CREATE TABLE article_fetches (
        item_uid TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT
      ) STRICT;
      CREATE INDEX article_fetches_due ON article_fetches(source_id, next_attempt_at);
    `,
  },
  {
    version: 4,
    name: 'source fetch state: permanent redirects and the feed\'s own ttl',
    sql: `
      -- moved_url: where the configured url has moved for good (used while the config keeps the old url);
      -- redirect_url/redirect_count: the permanent redirect seen on the last polls in a row.
      ALTER TABLE sources ADD COLUMN moved_url TEXT;
      ALTER TABLE sources ADD COLUMN redirect_url TEXT;
      ALTER TABLE sources ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sources ADD COLUMN ttl_ms INTEGER;
    `,
  },
  {
    version: 5,
    name: 'full-text search over items; a generation counter that changes with every write',
    // The FTS table keeps no copy of the text (contentless, with delete support): rows are found by
    // rowid = items.id. Text is indexed with ё folded to е, as the tagger folds it; unicode61 folds case.
    // The generation counter lets the server keep a rendered feed until anything it could show changes,
    // whoever wrote (the daemon, a CLI command, another process on the same database).
    sql: `
      CREATE VIRTUAL TABLE items_fts USING fts5(title, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
      INSERT INTO items_fts (rowid, title, body)
        SELECT id, replace(replace(title, 'ё', 'е'), 'Ё', 'Е'), replace(replace(summary_text || ' ' || content_text, 'ё', 'е'), 'Ё', 'Е') FROM items;
      CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, replace(replace(new.title, 'ё', 'е'), 'Ё', 'Е'), replace(replace(new.summary_text || ' ' || new.content_text, 'ё', 'е'), 'Ё', 'Е'));
      END;
      CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary_text, content_text ON items BEGIN
        DELETE FROM items_fts WHERE rowid = old.id;
        INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, replace(replace(new.title, 'ё', 'е'), 'Ё', 'Е'), replace(replace(new.summary_text || ' ' || new.content_text, 'ё', 'е'), 'Ё', 'Е'));
      END;
      CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        DELETE FROM items_fts WHERE rowid = old.id;
      END;

      -- Two counters: "feeds" moves with anything a feed shows (items, their topics, a source's title or
      -- site); "health" with what the index page also shows of sources (fetch times, errors).
      CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), feeds INTEGER NOT NULL, health INTEGER NOT NULL) STRICT;
      INSERT INTO generation (id, feeds, health) VALUES (1, 0, 0);
      CREATE TRIGGER generation_items_insert AFTER INSERT ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_items_update AFTER UPDATE ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_items_delete AFTER DELETE ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_topics_insert AFTER INSERT ON item_topics BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_topics_delete AFTER DELETE ON item_topics BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_sources_insert AFTER INSERT ON sources BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_sources_delete AFTER DELETE ON sources BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_sources_shown AFTER UPDATE OF title, site_url, url ON sources BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_sources_health AFTER UPDATE OF last_fetch_at, last_success_at, error_kind, error_message, error_count ON sources
        BEGIN UPDATE generation SET health = health + 1; END;
    `,
  },
  {
    version: 6,
    name: 'identity fingerprints that outlive their items; stories across sources',
    sql: `
      -- Every key an item is recognised by within its source (guid:…, url:…, text:…). When retention deletes the
      -- item the key stays as a tombstone (item_id NULL) until it has not been seen for retention.fingerprints.
      CREATE TABLE item_keys (
        source_id TEXT NOT NULL,
        key TEXT NOT NULL,
        item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (source_id, key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX item_keys_item ON item_keys(item_id, seen_at);

      -- Keys of the items stored so far, in the form src/pipeline/fingerprint.ts gives them: guids as they are,
      -- URLs without scheme and without a leading www. or m. (AMP variants are learnt when next seen).
      INSERT OR IGNORE INTO item_keys (source_id, key, item_id, seen_at)
        SELECT source_id, 'guid:' || guid, id, first_seen_at FROM items WHERE guid IS NOT NULL;
      INSERT OR IGNORE INTO item_keys (source_id, key, item_id, seen_at)
        SELECT source_id, 'url:' || CASE WHEN rest LIKE 'www.%' THEN substr(rest, 5) WHEN rest LIKE 'm.%' THEN substr(rest, 3) ELSE rest END,
          id, first_seen_at
        FROM (SELECT source_id, id, first_seen_at, substr(canonical_url, instr(canonical_url, '://') + 3) AS rest
              FROM items WHERE canonical_url LIKE 'http%://%');

      -- Items are found by their keys now; these two indexes only cost writes.
      DROP INDEX items_source_guid;
      DROP INDEX items_source_url;

      -- A story is what several reports tell; its uid (the uid of its first stored report) is the entry id of the
      -- story in output feeds, so it never changes when later reports join. joined_at: when one last joined.
      CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL,
        joined_at INTEGER
      ) STRICT;

      CREATE TABLE story_items (
        item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        source_id TEXT NOT NULL,
        published_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX story_items_story ON story_items(story_id, published_at, item_id, source_id);

      -- The words of recent reports, for finding the story a new report tells (their MinHash band index is built in
      -- memory from these, see band-index.ts). Only the dedup window needs them: housekeeping trims them by published_at.
      CREATE TABLE story_prints (
        published_at INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        words BLOB NOT NULL,
        PRIMARY KEY (published_at, item_id)
      ) STRICT, WITHOUT ROWID;

      -- Every item stored so far is a story of its own.
      INSERT INTO stories (id, uid) SELECT id, uid FROM items;
      INSERT INTO story_items (item_id, story_id, source_id, published_at) SELECT id, id, source_id, published_at FROM items;
    `,
  },
  {
    version: 7,
    name: 'the full-text index moves to a file of its own, kept by a worker thread; a queue of the items it must (re)index',
    // Tokenizing and merging the FTS5 index cost as much as the rest of storing an item (BENCHMARKS.md), on the thread
    // that also serves feeds. The index now lives in <database>.search.db (see search-index.ts), derived data that is
    // rebuilt when missing; this database only records which items changed, in order. AUTOINCREMENT, so that a number
    // is never handed out twice even after the queue is trimmed: the index remembers how far it got by number.
    sql: `
      DROP TRIGGER items_fts_insert;
      DROP TRIGGER items_fts_update;
      DROP TRIGGER items_fts_delete;
      DROP TABLE items_fts;

      CREATE TABLE search_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER search_queue_insert AFTER INSERT ON items BEGIN INSERT INTO search_queue (item_id) VALUES (new.id); END;
      CREATE TRIGGER search_queue_update AFTER UPDATE OF title, summary_text, content_text ON items
        BEGIN INSERT INTO search_queue (item_id) VALUES (new.id); END;
      CREATE TRIGGER search_queue_delete AFTER DELETE ON items BEGIN INSERT INTO search_queue (item_id) VALUES (old.id); END;

      -- Which database a search index file was built from: a file left beside another database is rebuilt.
      INSERT INTO meta (key, value) VALUES ('search_instance', lower(hex(randomblob(16))))
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;
    `,
  },
  {
    version: 8,
    name: 'fewer scattered index writes per stored item: story prints in item order, no unique index on the random uid',
    // An item's commit wrote about four pages to the write-ahead log (BENCHMARKS.md, dedup): most were one random page
    // of the uid's unique index and one of story_prints, keyed by publication date. Prints now follow the item id (an
    // append), and the uid is indexed within blocks of 1,024 consecutive items: a new uid goes into the newest block,
    // a few pages, and a lookup by uid (rare: `newsloom explain`) seeks once per block. A unique constraint's index cannot
    // be dropped, so the items table is rebuilt (ids, indexes and triggers as before; runs with foreign keys off).
    //   Items stored before identity keys existed (schema 5) that had neither guid nor URL were found by their uid; they
    // get a key "uid:<uid>" instead, which a lookup tries only when meta says there are any.
    sql: `
      CREATE TABLE story_prints_v8 (
        item_id INTEGER PRIMARY KEY,
        published_at INTEGER NOT NULL,
        words BLOB NOT NULL
      ) STRICT;
      INSERT INTO story_prints_v8 (item_id, published_at, words) SELECT item_id, published_at, words FROM story_prints ORDER BY item_id;
      DROP TABLE story_prints;
      ALTER TABLE story_prints_v8 RENAME TO story_prints;

      INSERT INTO item_keys (source_id, key, item_id, seen_at)
        SELECT source_id, 'uid:' || uid, id, first_seen_at FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_keys k WHERE k.item_id = i.id);
      INSERT INTO meta (key, value) SELECT 'legacy_uid_keys', '1' WHERE changes() > 0
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;

      CREATE TABLE items_v8 (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL,
        source_id TEXT NOT NULL REFERENCES sources(id),
        guid TEXT,
        url TEXT,
        canonical_url TEXT,
        title TEXT NOT NULL,
        summary_html TEXT NOT NULL,
        content_html TEXT NOT NULL,
        summary_text TEXT NOT NULL,
        content_text TEXT NOT NULL,
        author TEXT,
        categories TEXT NOT NULL,
        image TEXT,
        language TEXT,
        published_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        first_seen_at INTEGER NOT NULL,
        content_hash TEXT NOT NULL
      ) STRICT;
      INSERT INTO items_v8 (id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
          author, categories, image, language, published_at, updated_at, first_seen_at, content_hash)
        SELECT id, uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
          author, categories, image, language, published_at, updated_at, first_seen_at, content_hash FROM items ORDER BY id;
      DROP TABLE items;
      ALTER TABLE items_v8 RENAME TO items;
      CREATE INDEX items_published ON items(published_at DESC, id DESC);
      CREATE INDEX items_source_published ON items(source_id, published_at DESC, id DESC);
      CREATE INDEX items_uid ON items(id >> 10, uid);

      CREATE TRIGGER generation_items_insert AFTER INSERT ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_items_update AFTER UPDATE ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER generation_items_delete AFTER DELETE ON items BEGIN UPDATE generation SET feeds = feeds + 1; END;
      CREATE TRIGGER search_queue_insert AFTER INSERT ON items BEGIN INSERT INTO search_queue (item_id) VALUES (new.id); END;
      CREATE TRIGGER search_queue_update AFTER UPDATE OF title, summary_text, content_text ON items
        BEGIN INSERT INTO search_queue (item_id) VALUES (new.id); END;
      CREATE TRIGGER search_queue_delete AFTER DELETE ON items BEGIN INSERT INTO search_queue (item_id) VALUES (old.id); END;
    `,
  },
  {
    version: 9,
    name: 'enclosures: the media files an item carries (podcast audio, video, pictures), published in every format',
    // A JSON list of {url, type, length}; NULL when the item has none, as most items have.
    sql: `ALTER TABLE items ADD COLUMN enclosures TEXT;`,
  },
  {
    version: 10,
    name: 'feeds change with a source only when what they show of it changes',
    // A successful poll writes the title, site URL and address it read, nearly always the ones stored: the trigger
    // counted each such write as a change, so every poll of any source emptied every feed's render cache.
    sql: `
      DROP TRIGGER generation_sources_shown;
      CREATE TRIGGER generation_sources_shown AFTER UPDATE OF title, site_url, url ON sources
        WHEN OLD.title IS NOT NEW.title OR OLD.site_url IS NOT NEW.site_url OR OLD.url IS NOT NEW.url
        BEGIN UPDATE generation SET feeds = feeds + 1; END;
    `,
  },
];
