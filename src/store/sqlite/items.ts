// Items and their topics: finding an item again, inserting and updating it, reading output feeds.
import type { Enclosure, Item, Tag, TopicMatch } from '../../item.ts';
import type { ItemQuery, ItemStore as Items, StoredItem, TaggedItem } from '../store.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';
import type { SearchIndex } from './search-index.ts';
import { EXACT_RANK_WEIGHTS, ftsExpression, RANK_WEIGHTS, searchConditions, type IndexColumns } from './search.ts';
import type { StoryStore } from './stories.ts';

interface ItemRow {
  id: number;
  uid: string;
  source_id: string;
  guid: string | null;
  url: string | null;
  canonical_url: string | null;
  title: string;
  summary_html: string;
  content_html: string;
  summary_text: string;
  content_text: string;
  author: string | null;
  categories: string;
  image: string | null;
  enclosures: string | null;
  language: string | null;
  published_at: number;
  updated_at: number;
  first_seen_at: number;
  content_hash: string;
  topics: string | null;
}

/** Page query shapes kept prepared (see ItemStore.query). */
const PREPARED_SHAPES = 64;

const ITEM_COLUMNS = `i.id, i.uid, i.source_id, i.guid, i.url, i.canonical_url, i.title, i.summary_html, i.content_html, i.summary_text,
  i.content_text, i.author, i.categories, i.image, i.enclosures, i.language, i.published_at, i.updated_at, i.first_seen_at, i.content_hash,
  (SELECT group_concat(topic_id, ' ') FROM item_topics t WHERE t.item_id = i.id) AS topics`;

export class ItemStore implements Items {
  private readonly db: Db;
  private readonly stories: StoryStore;
  private readonly search: SearchIndex;
  private readonly statements;
  private readonly prepared = new Map<string, Statement<(string | number)[], unknown>>();

  constructor(db: Db, stories: StoryStore, search: SearchIndex) {
    this.db = db;
    this.stories = stories;
    this.search = search;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO items (uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
           author, categories, image, enclosures, language, published_at, updated_at, first_seen_at, content_hash)
         VALUES (@uid, @sourceId, @guid, @url, @canonicalUrl, @title, @summaryHtml, @contentHtml, @summaryText, @contentText,
           @author, @categories, @image, @enclosures, @language, @publishedAt, @updatedAt, @now, @contentHash)`,
      ),
      update: db.prepare(
        `UPDATE items SET guid = coalesce(@guid, guid), url = @url, canonical_url = @canonicalUrl, title = @title,
           summary_html = @summaryHtml, content_html = @contentHtml, summary_text = @summaryText, content_text = @contentText,
           author = @author, categories = @categories, image = @image, enclosures = @enclosures, updated_at = @updatedAt, content_hash = @contentHash
         WHERE id = @id`,
      ),
      deleteTopics: db.prepare<[number]>(`DELETE FROM item_topics WHERE item_id = ?`),
      addTopic: db.prepare<[number, string, number, string]>(`INSERT INTO item_topics (item_id, topic_id, published_at, matches) VALUES (?, ?, ?, ?)`),
      insertTopic: db.prepare<{ itemId: number; topic: string; matches: string }>(
        `INSERT INTO item_topics (item_id, topic_id, published_at, matches)
         SELECT id, @topic, published_at, @matches FROM items WHERE id = @itemId`,
      ),
      byId: db.prepare<[number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items i WHERE i.id = ?`),
      matches: db.prepare<[number], { topic_id: string; matches: string }>(`SELECT topic_id, matches FROM item_topics WHERE item_id = ? ORDER BY topic_id`),
      count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM items`),
      // items_uid indexes (id >> 10, uid): one seek per block of 1,024 item ids, up to the last one.
      idByUid: db.prepare<[string], { id: number }>(
        `WITH RECURSIVE block(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM block WHERE n < (SELECT max(id) >> 10 FROM items))
         SELECT i.id FROM block CROSS JOIN items i WHERE (i.id >> 10) = block.n AND i.uid = ?`,
      ),
      idByUrl: db.prepare<[string, string], { id: number }>(`SELECT id FROM items WHERE url = ? OR canonical_url = ? ORDER BY id DESC LIMIT 1`),
      taggingBatch: db.prepare<[number, number], Omit<TaggedItem, 'tags' | 'categories'> & { categories: string }>(
        `SELECT id, source_id AS sourceId, language, title, summary_text AS summaryText, content_text AS contentText, categories, author
         FROM items WHERE id > ? ORDER BY id LIMIT ?`,
      ),
      tagsBetween: db.prepare<[number, number], { item_id: number; topic_id: string; matches: string }>(
        `SELECT item_id, topic_id, matches FROM item_topics WHERE item_id BETWEEN ? AND ?`,
      ),
    };
  }

  /** Stores a new item with its topics; its row id. */
  async insert(item: Item, uid: string, now: number, tags: Tag[] = []): Promise<number> {
    const publishedAt = item.publishedAt ?? now;
    const result = this.statements.insert.run({
      ...this.params(item),
      uid,
      publishedAt,
      updatedAt: Math.max(item.updatedAt ?? publishedAt, publishedAt),
      now,
    });
    const id = Number(result.lastInsertRowid);
    for (const tag of tags) this.statements.addTopic.run(id, tag.topic, publishedAt, JSON.stringify(tag.matches));
    return id;
  }

  async update(id: number, item: Item, now: number): Promise<void> {
    this.statements.update.run({ ...this.params(item), id, updatedAt: now });
  }

  private params(item: Item) {
    return {
      sourceId: item.sourceId,
      guid: item.guid,
      url: item.url,
      canonicalUrl: item.canonicalUrl,
      title: item.title,
      summaryHtml: item.summaryHtml,
      contentHtml: item.contentHtml,
      summaryText: item.summaryText,
      contentText: item.contentText,
      author: item.author,
      categories: JSON.stringify(item.categories),
      image: item.image,
      enclosures: item.enclosures.length > 0 ? JSON.stringify(item.enclosures) : null,
      language: item.language,
      contentHash: item.contentHash,
    };
  }

  /** Replaces an item's topics with these tags. */
  async setTopics(itemId: number, tags: Tag[]): Promise<void> {
    this.statements.deleteTopics.run(itemId);
    for (const tag of tags) this.statements.insertTopic.run({ itemId, topic: tag.topic, matches: JSON.stringify(tag.matches) });
  }

  async get(id: number): Promise<StoredItem | undefined> {
    const row = this.statements.byId.get(id);
    return row && toStoredItem(row);
  }

  /** Why an item carries each of its topics. */
  async matches(id: number): Promise<{ topic: string; matches: TopicMatch[] }[]> {
    return this.statements.matches.all(id).map((r) => ({ topic: r.topic_id, matches: JSON.parse(r.matches) as TopicMatch[] }));
  }

  /** The id of the item a person refers to by its row id, its public uid (with or without urn:uuid:) or its URL. */
  async find(ref: string): Promise<number | undefined> {
    const trimmed = ref.trim();
    if (/^\d+$/.test(trimmed)) return this.statements.byId.get(Number(trimmed))?.id;
    const uid = `urn:uuid:${trimmed.replace(/^urn:uuid:/i, '').toLowerCase()}`;
    return this.statements.idByUid.get(uid)?.id ?? this.statements.idByUrl.get(trimmed, trimmed)?.id;
  }

  /** Up to `limit` items after the row id `afterId`, in id order, with their stored tags: a batch of re-tagging. */
  async taggingBatch(afterId: number, limit: number): Promise<TaggedItem[]> {
    const rows = this.statements.taggingBatch.all(afterId, limit);
    if (rows.length === 0) return [];
    const items = rows.map((r) => ({ ...r, categories: JSON.parse(r.categories) as string[], tags: new Map<string, string>() }));
    const byId = new Map(items.map((item) => [item.id, item]));
    for (const t of this.statements.tagsBetween.all(items[0]!.id, items.at(-1)!.id)) byId.get(t.item_id)?.tags.set(t.topic_id, t.matches);
    return items;
  }

  async count(): Promise<number> {
    return this.statements.count.get()!.n;
  }

  /**
   * Newest first (a search: best first, unless sorted by date): the entries of an output feed. A page costs a fixed number
   * of statements, whatever its size: one for its items (each story's leading report chosen in SQL), one for their
   * stories (see StoryStore.facts).
   */
  async list(query: ItemQuery): Promise<StoredItem[]> {
    const asStories = !query.everyItem;
    const topics = query.topics ?? [];
    const items =
      query.search && query.sort !== 'date'
        ? this.ranked(query, asStories)
        : topics.length === 0
          ? this.newest(query, asStories)
          : this.newestInTopics(topics, query, asStories);
    return this.withStories(items, asStories);
  }

  /** The newest items the query matches; as stories, only each story's first-published matching report. */
  private newest(query: ItemQuery, asStories: boolean): StoredItem[] {
    const { where, params } = this.where(query);
    const leading = asStories ? this.leading(query) : NO_CONDITION;
    const all = [...where, ...leading.where];
    return this.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items i${asStories ? ' LEFT JOIN story_items s ON s.item_id = i.id' : ''}
       ${all.length ? `WHERE ${all.join(' AND ')}` : ''} ORDER BY i.published_at DESC, i.id DESC LIMIT ?`,
    )
      .all(...params, ...leading.params, query.limit)
      .map(toStoredItem);
  }

  /**
   * A topic feed's page, in one statement. Each topic's newest items come in order straight off the index
   * (topic_id, published_at, item_id), so a page costs O(limit × topics) however many items are stored
   * (filtering items by topic membership instead reads every item of the topics); the page is the
   * newest of their union.
   */
  private newestInTopics(topics: string[], query: ItemQuery, asStories: boolean): StoredItem[] {
    const { where, params } = this.where({ ...query, topics: [] });
    const leading = asStories ? this.leading(query) : NO_CONDITION;
    const seek = query.before && 'publishedAt' in query.before ? [query.before.publishedAt, query.before.id] : [];
    const conditions = [...(seek.length ? ['(t.published_at, t.item_id) < (?, ?)'] : []), ...where, ...leading.where].map((w) => ` AND ${w}`).join('');
    // CROSS JOIN keeps SQLite's join order: each topic's seek on the index first, then its items by row id.
    const arm = `SELECT id FROM (SELECT t.item_id AS id FROM item_topics t CROSS JOIN items i ON i.id = t.item_id
      ${asStories ? 'LEFT JOIN story_items s ON s.item_id = i.id' : ''}
      WHERE t.topic_id = ?${conditions} ORDER BY t.published_at DESC, t.item_id DESC LIMIT ?)`;
    const armParams = (topic: string) => [topic, ...seek, ...params, ...leading.params, query.limit];
    return this.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM (${topics.map(() => arm).join(' UNION ')}) page CROSS JOIN items i ON i.id = page.id
       ORDER BY i.published_at DESC, i.id DESC LIMIT ?`,
    )
      .all(...topics.flatMap(armParams), query.limit)
      .map(toStoredItem);
  }

  /**
   * The best items of a search (bm25 over title and text, the title weighing more), after the cursor's score; as stories,
   * only each story's first-published matching report. Scores move a little as the index takes in items, so a page
   * boundary may shift between requests.
   */
  private ranked(query: ItemQuery, asStories: boolean): StoredItem[] {
    const columns = this.search.beforeQuery();
    const { where, params } = conditions({ ...query, search: undefined }, false, columns);
    const leading = asStories ? this.leading(query) : NO_CONDITION;
    const all = [...where, ...leading.where];
    const score = `bm25(items_fts, ${columns.forms ? RANK_WEIGHTS : EXACT_RANK_WEIGHTS})`;
    const after = query.before && 'score' in query.before ? query.before : undefined;
    const joins = all.length ? ` CROSS JOIN items i ON i.id = items_fts.rowid${asStories ? ' LEFT JOIN story_items s ON s.item_id = i.id' : ''}` : '';
    // The page's ids first: the items' columns (and their topics) are read for those only, not for every match.
    const page = `SELECT items_fts.rowid AS id, ${score} AS score FROM search.items_fts${joins}
      WHERE items_fts MATCH ?${all.map((w) => ` AND ${w}`).join('')}${after ? ' AND (score > ? OR (score = ? AND items_fts.rowid < ?))' : ''}
      ORDER BY score, items_fts.rowid DESC LIMIT ?`;
    return this.query<ItemRow & { score: number }>(`SELECT ${ITEM_COLUMNS}, r.score AS score FROM (${page}) r CROSS JOIN items i ON i.id = r.id ORDER BY r.score, i.id DESC`)
      .all(ftsExpression(query.search!, columns), ...params, ...leading.params, ...(after ? [after.score, after.score, after.id] : []), query.limit)
      .map((row) => ({ ...toStoredItem(row), score: row.score }));
  }

  /**
   * The condition that an item (aliased "i", its story_items row "s") is the first-published report of its story that the
   * query matches: no earlier report of the story matches it. The inner "i" is the earlier report, so the query's own
   * conditions apply to it unchanged; they probe the indexes per report, as they are checked for a few reports at a time.
   */
  private leading(query: ItemQuery): { where: string[]; params: (string | number)[] } {
    const { where, params } = this.where(query, true);
    return {
      where: [
        `NOT EXISTS (SELECT 1 FROM story_items o CROSS JOIN items i ON i.id = o.item_id
           WHERE o.story_id = s.story_id AND (o.published_at, o.item_id) < (s.published_at, s.item_id)${where.map((w) => ` AND ${w}`).join('')})`,
      ],
      params,
    };
  }

  /**
   * Each item with the other reports of its story. As a story's entry it takes the story's id, which never changes when
   * reports join, and its updated time moves when one joins (the entry's content changed).
   */
  private withStories(items: StoredItem[], asStories: boolean): StoredItem[] {
    const stories = this.stories.factsOf(items.map((item) => item.id));
    return items.map((item) => {
      const story = stories.get(item.id);
      if (!story) return item;
      return {
        ...item,
        uid: asStories ? story.uid : item.uid,
        updatedAt: Math.max(item.updatedAt, story.joinedAt ?? 0),
        related: story.related,
      };
    });
  }

  /**
   * A page query, prepared once per shape (which filters, how many topics): preparing one of these costs about as much
   * as running it. The shapes a config and its URLs make are few; the oldest shape goes past PREPARED_SHAPES.
   */
  private query<Row>(sql: string): Statement<(string | number)[], Row> {
    let statement = this.prepared.get(sql);
    if (statement) this.prepared.delete(sql);
    else statement = this.db.prepare<(string | number)[], unknown>(sql);
    this.prepared.set(sql, statement);
    if (this.prepared.size > PREPARED_SHAPES) this.prepared.delete(this.prepared.keys().next().value!);
    return statement as Statement<(string | number)[], Row>;
  }

  /** The conditions of a query; a full-text query first has the search index brought up to date where this thread keeps it. */
  private where(query: Omit<ItemQuery, 'limit'>, perItem = false): { where: string[]; params: (string | number)[] } {
    return conditions(query, perItem, query.search ? this.search.beforeQuery() : { forms: false });
  }

  /**
   * How many entries the query's feed holds in all, ignoring its limit: the items it matches, or with one entry per
   * story (the default) the stories among them (an item filed under none is a story of its own).
   */
  async countEntries(query: Omit<ItemQuery, 'limit'>): Promise<number> {
    const topics = query.topics ?? [];
    const counted = query.everyItem ? 'count(*)' : 'count(DISTINCT coalesce(m.story_id, -i.id))';
    const stories = query.everyItem ? '' : 'LEFT JOIN story_items m ON m.item_id = i.id';
    // A topic feed is counted off the topic index, never reading the items' rows (100,000 of them take
    // seconds, their index entries milliseconds); every other condition needs only an item's id and date.
    const topicIndex = topics.length > 0 && !query.sources?.length;
    const { where, params } = this.where(topicIndex ? { ...query, topics: [] } : query);
    const from = topicIndex
      ? `(SELECT DISTINCT item_id AS id, published_at FROM item_topics WHERE topic_id IN (${topics.map(() => '?').join(', ')})) i`
      : 'items i';
    const sql = `SELECT ${counted} AS n FROM ${from} ${stories} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    return this.db.prepare<(string | number)[], { n: number }>(sql).get(...(topicIndex ? topics : []), ...params)!.n;
  }
}

const NO_CONDITION: { where: string[]; params: (string | number)[] } = { where: [], params: [] };

/**
 * The WHERE conditions (on items aliased "i") of a query, and their parameters. `perItem` suits a check of a few given items: topic membership is then
 * probed per item, instead of collecting every item of the topics first (which suits scanning many items).
 */
function conditions(query: Omit<ItemQuery, 'limit'>, perItem: boolean, columns: IndexColumns): { where: string[]; params: (string | number)[] } {
  const sources = query.sources ?? [];
  const { where, params } = topicConditions(query, perItem);
  if (sources.length > 0) {
    where.push(`i.source_id IN (${sources.map(() => '?').join(', ')})`);
    params.push(...sources);
  }
  const search = searchConditions(query, columns);
  return { where: [...where, ...search.where], params: [...params, ...search.params] };
}

/** The SQL conditions of a query's topic filter (any, all, not), with their parameters. */
function topicConditions(query: Omit<ItemQuery, 'limit'>, perItem: boolean): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const marks = (ids: string[]) => ids.map(() => '?').join(', ');
  const any = query.topics ?? [];
  if (any.length > 0) {
    where.push(
      perItem
        ? `EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id IN (${marks(any)}))`
        : `i.id IN (SELECT item_id FROM item_topics WHERE topic_id IN (${marks(any)}))`,
    );
    params.push(...any);
  }
  for (const topic of query.allTopics ?? []) {
    where.push(`EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id = ?)`);
    params.push(topic);
  }
  const not = query.notTopics ?? [];
  if (not.length > 0) {
    where.push(`NOT EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id IN (${marks(not)}))`);
    params.push(...not);
  }
  return { where, params };
}

function toStoredItem(row: ItemRow): StoredItem {
  return {
    id: row.id,
    uid: row.uid,
    sourceId: row.source_id,
    guid: row.guid,
    url: row.url,
    canonicalUrl: row.canonical_url,
    title: row.title,
    summaryHtml: row.summary_html,
    contentHtml: row.content_html,
    summaryText: row.summary_text,
    contentText: row.content_text,
    author: row.author,
    categories: JSON.parse(row.categories) as string[],
    image: row.image,
    enclosures: row.enclosures ? (JSON.parse(row.enclosures) as Enclosure[]) : [],
    language: row.language,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    firstSeenAt: row.first_seen_at,
    contentHash: row.content_hash,
    topics: row.topics ? row.topics.split(' ').sort() : [],
    related: [],
  };
}
