// Items and their topics: finding an item again, inserting and updating it, reading output feeds.
import type { Item, Tag, TopicMatch } from '../item.ts';
import type { Db } from './db.ts';
import type { StoryStore } from './stories.ts';

/** An item as stored: the normalized item plus its identity and bookkeeping. */
export interface StoredItem extends Item {
  id: number;
  /** The public, permanent id of the entry (derived from the item's identity, never from the row number). */
  uid: string;
  publishedAt: number;
  updatedAt: number;
  firstSeenAt: number;
  topics: string[];
  /** Other reports of the same story (other sources, reworded), shown with the leading item. */
  related: RelatedReport[];
}

export interface RelatedReport {
  sourceId: string;
  title: string;
  url: string | null;
}

export interface ItemQuery {
  /** Items tagged with any of these topics; empty means any item. */
  topics?: string[];
  /** Items from any of these sources; empty means any source. */
  sources?: string[];
  limit: number;
  /** List every matching item; by default each story is one entry, shown by its first-published matching report. */
  everyItem?: boolean;
}

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
  language: string | null;
  published_at: number;
  updated_at: number;
  first_seen_at: number;
  content_hash: string;
  topics: string | null;
}

const ITEM_COLUMNS = `i.id, i.uid, i.source_id, i.guid, i.url, i.canonical_url, i.title, i.summary_html, i.content_html, i.summary_text,
  i.content_text, i.author, i.categories, i.image, i.language, i.published_at, i.updated_at, i.first_seen_at, i.content_hash,
  (SELECT group_concat(topic_id, ' ') FROM item_topics t WHERE t.item_id = i.id) AS topics`;

export class ItemStore {
  private readonly db: Db;
  private readonly stories: StoryStore;
  private readonly statements;

  constructor(db: Db, stories: StoryStore) {
    this.db = db;
    this.stories = stories;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO items (uid, source_id, guid, url, canonical_url, title, summary_html, content_html, summary_text, content_text,
           author, categories, image, language, published_at, updated_at, first_seen_at, content_hash)
         VALUES (@uid, @sourceId, @guid, @url, @canonicalUrl, @title, @summaryHtml, @contentHtml, @summaryText, @contentText,
           @author, @categories, @image, @language, @publishedAt, @updatedAt, @now, @contentHash)`,
      ),
      update: db.prepare(
        `UPDATE items SET guid = coalesce(@guid, guid), url = @url, canonical_url = @canonicalUrl, title = @title,
           summary_html = @summaryHtml, content_html = @contentHtml, summary_text = @summaryText, content_text = @contentText,
           author = @author, categories = @categories, image = @image, updated_at = @updatedAt, content_hash = @contentHash
         WHERE id = @id`,
      ),
      deleteTopics: db.prepare<[number]>(`DELETE FROM item_topics WHERE item_id = ?`),
      insertTopic: db.prepare<{ itemId: number; topic: string; matches: string }>(
        `INSERT INTO item_topics (item_id, topic_id, published_at, matches)
         SELECT id, @topic, published_at, @matches FROM items WHERE id = @itemId`,
      ),
      byId: db.prepare<[number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items i WHERE i.id = ?`),
      matches: db.prepare<[number], { topic_id: string; matches: string }>(`SELECT topic_id, matches FROM item_topics WHERE item_id = ? ORDER BY topic_id`),
      count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM items`),
    };
  }

  insert(item: Item, uid: string, now: number): number {
    const publishedAt = item.publishedAt ?? now;
    const result = this.statements.insert.run({
      ...this.params(item),
      uid,
      publishedAt,
      updatedAt: Math.max(item.updatedAt ?? publishedAt, publishedAt),
      now,
    });
    return Number(result.lastInsertRowid);
  }

  update(id: number, item: Item, now: number): void {
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
      language: item.language,
      contentHash: item.contentHash,
    };
  }

  /** Replaces an item's topics with these tags. */
  setTopics(itemId: number, tags: Tag[]): void {
    this.statements.deleteTopics.run(itemId);
    for (const tag of tags) this.statements.insertTopic.run({ itemId, topic: tag.topic, matches: JSON.stringify(tag.matches) });
  }

  get(id: number): StoredItem | undefined {
    const row = this.statements.byId.get(id);
    return row && toStoredItem(row);
  }

  /** Why an item carries each of its topics. */
  matches(id: number): { topic: string; matches: TopicMatch[] }[] {
    return this.statements.matches.all(id).map((r) => ({ topic: r.topic_id, matches: JSON.parse(r.matches) as TopicMatch[] }));
  }

  count(): number {
    return this.statements.count.get()!.n;
  }

  /** Newest first: the entries of an output feed. */
  list(query: ItemQuery): StoredItem[] {
    const topics = query.topics ?? [];
    const sources = query.sources ?? [];
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (topics.length > 0) {
      where.push(`i.id IN (SELECT item_id FROM item_topics WHERE topic_id IN (${topics.map(() => '?').join(', ')}))`);
      params.push(...topics);
    }
    if (sources.length > 0) {
      where.push(`i.source_id IN (${sources.map(() => '?').join(', ')})`);
      params.push(...sources);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const page = (limit: number) =>
      this.db
        .prepare<(string | number)[], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items i ${filter} ORDER BY i.published_at DESC, i.id DESC LIMIT ?`)
        .all(...params, limit)
        .map(toStoredItem);
    return this.withStories(query.everyItem ? page(query.limit) : this.onePerStory(page, where, params, query.limit), !query.everyItem);
  }

  /** Of each story, only its first-published report that the query matches: reads more pages until `limit` are left. */
  private onePerStory(page: (limit: number) => StoredItem[], where: string[], params: (string | number)[], limit: number): StoredItem[] {
    const matches = (ids: number[]) =>
      this.db
        .prepare<(string | number)[], { id: number }>(`SELECT i.id FROM items i WHERE ${[...where, `i.id IN (${ids.map(() => '?').join(', ')})`].join(' AND ')} LIMIT 1`)
        .get(...params, ...ids) !== undefined;
    for (let fetch = limit; ; fetch *= 2) {
      const items = page(fetch);
      const leaders = items.filter((item) => {
        const earlier = this.stories.earlierReports(item.id);
        return earlier.length === 0 || !matches(earlier);
      });
      if (leaders.length >= limit || items.length < fetch) return leaders.slice(0, limit);
    }
  }

  /**
   * Each item with the other reports of its story. As a story's entry it takes the story's id, which never changes when
   * reports join, and its updated time moves when one joins (the entry's content changed).
   */
  private withStories(items: StoredItem[], asStories: boolean): StoredItem[] {
    return items.map((item) => {
      const story = this.stories.facts(item.id);
      if (!story) return item;
      return {
        ...item,
        uid: asStories ? story.uid : item.uid,
        updatedAt: Math.max(item.updatedAt, story.joinedAt ?? 0),
        related: story.related,
      };
    });
  }
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
    language: row.language,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    firstSeenAt: row.first_seen_at,
    contentHash: row.content_hash,
    topics: row.topics ? row.topics.split(' ').sort() : [],
    related: [],
  };
}
