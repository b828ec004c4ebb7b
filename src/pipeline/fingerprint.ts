// The identity of an item within its source (the permanent public id derived from it is text/uid.ts).
import type { Item } from '../item.ts';
import { hash } from './normalize.ts';

/**
 * The keys each item of one document is recognised by, most telling first: its guid, its URL, else its title and text.
 * A guid or URL that several items of the document share identifies none of them (feeds that give every item the
 * same guid, or link every item to the home page), so it is left out. The first key is the item's identity.
 */
export function identityKeys(items: Item[]): string[][] {
  const guids = counts(items.map((item) => item.guid));
  const urls = counts(items.map((item) => item.canonicalUrl && identityUrl(item.canonicalUrl)));
  return items.map((item) => {
    const keys: string[] = [];
    if (item.guid && guids.get(item.guid) === 1) keys.push(`guid:${item.guid}`);
    const url = item.canonicalUrl && identityUrl(item.canonicalUrl);
    if (url && urls.get(url) === 1) keys.push(`url:${url}`);
    if (keys.length === 0) keys.push(`text:${hash([item.title, item.summaryText, item.contentText])}`);
    return keys;
  });
}

const MOBILE_HOST = /^(?:www|m|mobile|amp)\./;
const AMP_SEGMENT = /\/amp(?=\/|$)/g;

/**
 * The canonical URL without the differences that do not make it another page: the scheme, a www./m. host prefix,
 * and the AMP variants sites publish (/amp/…, …/amp, ?amp=1, ?outputType=amp).
 */
export function identityUrl(canonicalUrl: string): string {
  let url: URL;
  try {
    url = new URL(canonicalUrl);
  } catch {
    return canonicalUrl;
  }
  const params = [...url.searchParams];
  const kept = params.filter(([name, value]) => name.toLowerCase() !== 'amp' && !(name === 'outputType' && value === 'amp'));
  // Re-encoding the query could spell it differently from the stored canonical URL; only rebuild it when it changed.
  const query = kept.length === params.length ? url.search : kept.length > 0 ? `?${new URLSearchParams(kept).toString()}` : '';
  const path = url.pathname.replace(AMP_SEGMENT, '') || '/';
  return `${url.host.replace(MOBILE_HOST, '')}${path}${query}`;
}

function counts(values: (string | null)[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const value of values) if (value) result.set(value, (result.get(value) ?? 0) + 1);
  return result;
}
