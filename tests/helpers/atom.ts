// Reads an Atom response back into entries, for assertions on what subscribers see.
import Parser from 'rss-parser';

export interface Entry {
  id: string;
  title: string;
  link: string;
  categories: string[];
  /** The entry's content as HTML. */
  content: string;
  updated: string;
}

const parser = new Parser<object, { id?: string; updated?: string }>({ customFields: { item: ['id', 'updated'] } });

export async function fetchAtom(url: string): Promise<{ status: number; title: string; entries: Entry[]; body: string }> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200) return { status: response.status, title: '', entries: [], body };
  const feed = await parser.parseString(body);
  return {
    status: response.status,
    title: feed.title ?? '',
    body,
    entries: feed.items.map((item) => ({
      id: item.id ?? '',
      title: item.title ?? '',
      link: item.link ?? '',
      categories: (item.categories ?? []).map(String),
      content: item.content ?? '',
      updated: item.updated ?? '',
    })),
  };
}
