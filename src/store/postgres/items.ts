// Items and their topics on PostgreSQL: inserting and updating them, finding one again, reading output feeds. A page
// is one statement for its items (each story's leading report chosen in SQL, as on SQLite) and two for their stories.
import type { Enclosure, Item, Tag, TopicMatch } from '../../item.ts';
import type { ItemQuery, ItemStore as Items, StoredItem, TaggedItem } from '../store.ts';
import { Deferring, type Sql } from './db.ts';
import { matchingItems, Params, tsqueryExpression } from './search.ts';
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

const ITEM_COLUMNS = `i.id, i.uid, i.source_id, i.guid, i.url, i.canonical_url, i.title, i.summary_html, i.content_html, i.summary_text,
  i.content_text, i.author, i.categories, i.image, i.enclosures, i.language, i.published_at, i.updated_at, i.first_seen_at, i.content_hash,
  (SELECT string_agg(topic_id, ' ') FROM item_topics t WHERE t.item_id = i.id) AS topics`;

type Conditions = string[];

export class ItemStore implements Items {
  private readonly sql: Sql;
  private readonly stories: StoryStore;

  constructor(sql: Sql, stories: StoryStore) {
    this.sql = sql;
    this.stories = stories;
  }

  /**
   * Stores a new item with its topics, in one statement; its row id. In a transaction the id is one reserved in advance
   * and the row is sent with the next statement (db.ts, Deferring).
   */
  async insert(item: Item, uid: string, now: number, tags: Tag[] = []): Promise<number> {
    const publishedAt = item.publishedAt ?? now;
    if (this.sql instanceof Deferring) {
      const id = await this.sql.nextItemId();
      const [sourceId, guid, url, canonicalUrl, title, summaryHtml, contentHtml, summaryText, contentText, author, categories, image, enclosures, language] =
        this.fields(item);
      this.sql.defer('items', {
        id,
        uid,
        source_id: sourceId,
        guid,
        url,
        canonical_url: canonicalUrl,
        title,
        summary_html: summaryHtml,
        content_html: contentHtml,
        summary_text: summaryText,
        content_text: contentText,
        author,
        categories,
        image,
        enclosures,
        language,
        published_at: publishedAt,
        updated_at: Math.max(item.updatedAt ?? publishedAt, publishedAt),
        first_seen_at: now,
        content_hash: item.contentHash,
        tags: tags.map((tag) => [tag.topic, JSON.stringify(tag.matches)]),
      });
      return id;
    }
    const [row] = await this.sql.query<{ id: number }>(
      `WITH item AS (
         INSERT INTO items (uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
           author, categories, image, enclosures, language, published_at, updated_at, first_seen_at, content_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id, published_at),
       topics AS (
         INSERT INTO item_topics (item_id, topic_id, published_at, matches)
         SELECT item.id, t.topic, item.published_at, t.matches FROM item, unnest($20::text[], $21::text[]) AS t(topic, matches))
       SELECT id FROM item`,
      [
        uid,
        ...this.fields(item).slice(0, 14),
        publishedAt,
        Math.max(item.updatedAt ?? publishedAt, publishedAt),
        now,
        item.contentHash,
        tags.map((tag) => tag.topic),
        tags.map((tag) => JSON.stringify(tag.matches)),
      ],
    );
    return row!.id;
  }

  async update(id: number, item: Item, now: number): Promise<void> {
    const f = this.fields(item);
    await this.sql.query(
      `UPDATE items SET guid = coalesce($2, guid), url = $3, canonical_url = $4, title = $5, summary_html = $6, content_html = $7,
         summary_text = $8, content_text = $9, author = $10, categories = $11, image = $12, enclosures = $13, updated_at = $14, content_hash = $15
       WHERE id = $1`,
      [id, ...f.slice(1, 13), now, item.contentHash],
    );
  }

  /** The columns of an item in insert order, from source_id to language. */
  private fields(item: Item): unknown[] {
    return [
      item.sourceId,
      item.guid,
      item.url,
      item.canonicalUrl,
      item.title,
      item.summaryHtml,
      item.contentHtml,
      item.summaryText,
      item.contentText,
      item.author,
      JSON.stringify(item.categories),
      item.image,
      item.enclosures.length > 0 ? JSON.stringify(item.enclosures) : null,
      item.language,
    ];
  }

  async setTopics(itemId: number, tags: Tag[]): Promise<void> {
    await this.sql.query(`DELETE FROM item_topics WHERE item_id = $1`, [itemId]);
    if (tags.length === 0) return;
    await this.sql.query(
      `INSERT INTO item_topics (item_id, topic_id, published_at, matches)
       SELECT i.id, t.topic, i.published_at, t.matches FROM items i, unnest($2::text[], $3::text[]) AS t(topic, matches) WHERE i.id = $1`,
      [itemId, tags.map((tag) => tag.topic), tags.map((tag) => JSON.stringify(tag.matches))],
    );
  }

  async get(id: number): Promise<StoredItem | undefined> {
    const [row] = await this.sql.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items i WHERE i.id = $1`, [id]);
    return row && toStoredItem(row);
  }

  async matches(id: number): Promise<{ topic: string; matches: TopicMatch[] }[]> {
    const rows = await this.sql.query<{ topic_id: string; matches: string }>(`SELECT topic_id, matches FROM item_topics WHERE item_id = $1 ORDER BY topic_id`, [id]);
    return rows.map((r) => ({ topic: r.topic_id, matches: JSON.parse(r.matches) as TopicMatch[] }));
  }

  async find(ref: string): Promise<number | undefined> {
    const trimmed = ref.trim();
    if (/^\d+$/.test(trimmed)) {
      const id = Number(trimmed);
      if (!Number.isSafeInteger(id)) return undefined;
      return (await this.sql.query<{ id: number }>(`SELECT id FROM items WHERE id = $1`, [id]))[0]?.id;
    }
    const uid = `urn:uuid:${trimmed.replace(/^urn:uuid:/i, '').toLowerCase()}`;
    const [row] = await this.sql.query<{ id: number }>(
      `SELECT id FROM (SELECT id, 0 AS rank FROM items WHERE uid = $1
         UNION ALL (SELECT id, 1 AS rank FROM items WHERE url = $2 OR canonical_url = $2 ORDER BY id DESC LIMIT 1)) found
       ORDER BY rank LIMIT 1`,
      [uid, trimmed],
    );
    return row?.id;
  }

  async taggingBatch(afterId: number, limit: number): Promise<TaggedItem[]> {
    const rows = await this.sql.query<Omit<TaggedItem, 'tags' | 'categories'> & { categories: string }>(
      `SELECT id, source_id AS "sourceId", language, title, summary_text AS "summaryText", content_text AS "contentText", categories, author
       FROM items WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    if (rows.length === 0) return [];
    const items = rows.map((r) => ({ ...r, categories: JSON.parse(r.categories) as string[], tags: new Map<string, string>() }));
    const byId = new Map(items.map((item) => [item.id, item]));
    const tags = await this.sql.query<{ item_id: number; topic_id: string; matches: string }>(
      `SELECT item_id, topic_id, matches FROM item_topics WHERE item_id BETWEEN $1 AND $2`,
      [items[0]!.id, items.at(-1)!.id],
    );
    for (const t of tags) byId.get(t.item_id)?.tags.set(t.topic_id, t.matches);
    return items;
  }

  async count(): Promise<number> {
    return (await this.sql.query<{ n: number }>(`SELECT count(*) AS n FROM items`))[0]!.n;
  }

  async list(query: ItemQuery): Promise<StoredItem[]> {
    const asStories = !query.everyItem;
    const topics = query.topics ?? [];
    const items =
      query.search && query.sort !== 'date'
        ? await this.ranked(query, asStories)
        : topics.length === 0
          ? await this.newest(query, asStories)
          : await this.newestInTopics(topics, query, asStories);
    const stories = await this.stories.facts(items.map((item) => item.id));
    return items.map((item) => {
      const story = stories.get(item.id);
      if (!story) return item;
      return { ...item, uid: asStories ? story.uid : item.uid, updatedAt: Math.max(item.updatedAt, story.joinedAt ?? 0), related: story.related };
    });
  }

  private async newest(query: ItemQuery, asStories: boolean): Promise<StoredItem[]> {
    const params = new Params();
    const all = [...conditions(query, params, false), ...(asStories ? leading(query, params) : [])];
    const rows = await this.sql.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items i${asStories ? ' LEFT JOIN story_items s ON s.item_id = i.id' : ''}
       ${where(all)} ORDER BY i.published_at DESC, i.id DESC LIMIT ${params.add(query.limit)}`,
      params.values,
    );
    return rows.map(toStoredItem);
  }

  /** A topic feed's page: each topic's newest items straight off the topic index, the page the newest of their union. */
  private async newestInTopics(topics: string[], query: ItemQuery, asStories: boolean): Promise<StoredItem[]> {
    const params = new Params();
    const seek = query.before && 'publishedAt' in query.before ? `(t.published_at, t.item_id) < (${params.add(query.before.publishedAt)}, ${params.add(query.before.id)})` : undefined;
    const rest = [...(seek ? [seek] : []), ...conditions({ ...query, topics: [] }, params, false), ...(asStories ? leading(query, params) : [])];
    const limit = params.add(query.limit);
    const arms = topics.map(
      (topic) => `(SELECT t.item_id AS id FROM item_topics t JOIN items i ON i.id = t.item_id
        ${asStories ? 'LEFT JOIN story_items s ON s.item_id = i.id' : ''}
        WHERE t.topic_id = ${params.add(topic)}${rest.map((w) => ` AND ${w}`).join('')} ORDER BY t.published_at DESC, t.item_id DESC LIMIT ${limit})`,
    );
    const rows = await this.sql.query<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM (${arms.join(' UNION ')}) page JOIN items i ON i.id = page.id ORDER BY i.published_at DESC, i.id DESC LIMIT ${limit}`,
      params.values,
    );
    return rows.map(toStoredItem);
  }

  /**
   * The best items of a search (ts_rank_cd: cover density, the title weighing more, a longer text less, as with bm25),
   * after the cursor's score. The score is the rank negated, so that lower is better as with SQLite's bm25 and the same
   * cursors page both.
   */
  private async ranked(query: ItemQuery, asStories: boolean): Promise<StoredItem[]> {
    const params = new Params();
    const tsquery = tsqueryExpression(query.search!, params);
    const all = [...conditions({ ...query, search: undefined }, params, false), ...(asStories ? leading(query, params) : [])];
    const after = query.before && 'score' in query.before ? query.before : undefined;
    const page = `SELECT id, score FROM (
        SELECT i.id, -(ts_rank_cd(m.words, ${tsquery}, 1)::float8) AS score FROM ${matchingItems(tsquery)} m JOIN items i ON i.id = m.id
        ${asStories ? 'LEFT JOIN story_items s ON s.item_id = i.id' : ''} ${where(all)}
      ) m${after ? ` WHERE score > ${params.add(after.score)} OR (score = ${params.add(after.score)} AND id < ${params.add(after.id)})` : ''}
      ORDER BY score, id DESC LIMIT ${params.add(query.limit)}`;
    const rows = await this.sql.query<ItemRow & { score: number }>(
      `SELECT ${ITEM_COLUMNS}, r.score FROM (${page}) r JOIN items i ON i.id = r.id ORDER BY r.score, i.id DESC`,
      params.values,
    );
    return rows.map((row) => ({ ...toStoredItem(row), score: row.score }));
  }

  async countEntries(query: Omit<ItemQuery, 'limit'>): Promise<number> {
    const params = new Params();
    const topics = query.topics ?? [];
    const counted = query.everyItem ? 'count(*)' : 'count(DISTINCT coalesce(m.story_id, -i.id))';
    const stories = query.everyItem ? '' : 'LEFT JOIN story_items m ON m.item_id = i.id';
    const topicIndex = topics.length > 0 && !query.sources?.length;
    const from = topicIndex ? `(SELECT DISTINCT item_id AS id, published_at FROM item_topics WHERE topic_id = ANY(${params.add(topics)}::text[])) i` : 'items i';
    const all = conditions(topicIndex ? { ...query, topics: [] } : query, params, false);
    const [row] = await this.sql.query<{ n: number }>(`SELECT ${counted} AS n FROM ${from} ${stories} ${where(all)}`, params.values);
    return row!.n;
  }
}

const where = (all: Conditions) => (all.length ? `WHERE ${all.join(' AND ')}` : '');

/**
 * The condition that an item (aliased "i", its story_items row "s") is the first-published report of its story that the
 * query matches: no earlier report of the story matches it. The inner "i" is the earlier report, so the query's own
 * conditions apply to it unchanged.
 */
function leading(query: Omit<ItemQuery, 'limit'>, params: Params): Conditions {
  const inner = conditions(query, params, true);
  return [
    `NOT EXISTS (SELECT 1 FROM story_items o JOIN items i ON i.id = o.item_id
       WHERE o.story_id = s.story_id AND (o.published_at, o.item_id) < (s.published_at, s.item_id)${inner.map((w) => ` AND ${w}`).join('')})`,
  ];
}

/** The WHERE conditions (on items aliased "i") of a query, adding their parameters. */
function conditions(query: Omit<ItemQuery, 'limit'>, params: Params, perItem: boolean): Conditions {
  const all: Conditions = [];
  const any = query.topics ?? [];
  if (any.length > 0) {
    all.push(
      perItem
        ? `EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id = ANY(${params.add(any)}::text[]))`
        : `i.id IN (SELECT item_id FROM item_topics WHERE topic_id = ANY(${params.add(any)}::text[]))`,
    );
  }
  for (const topic of query.allTopics ?? []) all.push(`EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id = ${params.add(topic)})`);
  const not = query.notTopics ?? [];
  if (not.length > 0) all.push(`NOT EXISTS (SELECT 1 FROM item_topics WHERE item_id = i.id AND topic_id = ANY(${params.add(not)}::text[]))`);
  const sources = query.sources ?? [];
  if (sources.length > 0) all.push(`i.source_id = ANY(${params.add(sources)}::text[])`);
  if (query.before && 'publishedAt' in query.before) all.push(`(i.published_at, i.id) < (${params.add(query.before.publishedAt)}, ${params.add(query.before.id)})`);
  if (query.since !== undefined) all.push(`i.published_at >= ${params.add(query.since)}`);
  if (query.search) all.push(`i.id IN (SELECT m.id FROM ${matchingItems(tsqueryExpression(query.search, params))} m)`);
  return all;
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
