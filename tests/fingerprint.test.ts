import { describe, expect, it } from 'vitest';
import type { Item } from '../src/item.ts';
import { identityKeys, identityUrl } from '../src/pipeline/fingerprint.ts';
import { normalize } from '../src/pipeline/normalize.ts';

const item = (fields: { guid?: string; url?: string; title?: string }): Item =>
  normalize({ summary: 'text', ...fields }, { sourceId: 's', language: null, baseUrl: 'https://example.org/', now: 0 });

describe('identity keys of the items of one document', () => {
  it('identifies an item by its guid, and knows its URL as well', () => {
    expect(identityKeys([item({ guid: 'g1', url: 'https://example.org/a' })])).toEqual([['guid:g1', 'url:example.org/a']]);
  });

  it('falls back to the URL when a guid is repeated inside the feed', () => {
    const keys = identityKeys([item({ guid: 'same', url: 'https://example.org/a' }), item({ guid: 'same', url: 'https://example.org/b' })]);
    expect(keys).toEqual([['url:example.org/a'], ['url:example.org/b']]);
  });

  it('falls back to the text when neither guid nor URL tells the items apart', () => {
    const keys = identityKeys([item({ url: 'https://example.org/', title: 'One' }), item({ url: 'https://example.org/', title: 'Two' })]);
    expect(keys[0]).toHaveLength(1);
    expect(keys[0]![0]).toMatch(/^text:/);
    expect(keys[1]![0]).toMatch(/^text:/);
    expect(keys[0]).not.toEqual(keys[1]);
  });
});

describe('the URL an item is recognised by', () => {
  it('ignores the scheme, a www. or m. host prefix, and AMP variants', () => {
    const variants = [
      'https://tass.com/world/1380000',
      'http://tass.com/world/1380000',
      'https://www.tass.com/world/1380000',
      'https://m.tass.com/world/1380000',
      'https://tass.com/amp/world/1380000',
      'https://tass.com/world/1380000/amp',
      'https://tass.com/world/1380000?amp=1',
      'https://tass.com/world/1380000?outputType=amp',
    ];
    expect(new Set(variants.map(identityUrl))).toEqual(new Set(['tass.com/world/1380000']));
  });

  it('keeps what makes another page: other hosts, paths and parameters', () => {
    expect(identityUrl('https://tass.ru/world/1')).not.toBe(identityUrl('https://tass.com/world/1'));
    expect(identityUrl('https://tass.com/world/1?page=2')).toBe('tass.com/world/1?page=2');
    expect(identityUrl('https://tass.com/world/example')).toBe('tass.com/world/example');
    expect(identityUrl('https://tass.com/campus/amplifier')).toBe('tass.com/campus/amplifier');
  });
});
