// Dispatch on a source's kind: each kind only turns fetched bytes into RawItems.
import type { SourceConfig } from '../config/schema.ts';
import type { RawItem } from '../item.ts';
import { decode } from './decode.ts';
import { parseFeed } from './feed.ts';
import type { FetchResponse } from './fetch.ts';

export interface SourceDocument {
  title?: string | undefined;
  siteUrl?: string | undefined;
  ttlMinutes?: number | undefined;
  items: RawItem[];
}

export class UnsupportedKindError extends Error {
  override readonly name = 'UnsupportedKindError';
}

export async function readSource(source: SourceConfig, response: FetchResponse): Promise<SourceDocument> {
  switch (source.kind) {
    case 'feed': {
      const feed = await parseFeed(decode(response.body, response.contentType, 'xml').text);
      return { title: feed.title, siteUrl: feed.link, ttlMinutes: feed.ttlMinutes, items: feed.items };
    }
    case 'html':
    case 'json':
      throw new UnsupportedKindError(`sources of kind "${source.kind}" are not supported by this version of newsloom`);
  }
}
