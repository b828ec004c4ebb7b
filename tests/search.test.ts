import { beforeEach, describe, expect, it } from 'vitest';
import type { Item } from '../src/item.ts';
import { MAX_QUERY_LENGTH, parseSearch } from '../src/text/search-query.ts';
import type { Store } from '../src/store/store.ts';
import { ENGINES, useEngine } from './helpers/engines.ts';
import { searchFor } from './helpers/search.ts';

const NOW = Date.UTC(2026, 5, 1);

function item(n: number, title: string, text: string): Item {
  return {
    sourceId: 'wire',
    guid: `g-${n}`,
    url: null,
    canonicalUrl: null,
    title,
    summaryHtml: '',
    contentHtml: '',
    summaryText: text,
    contentText: '',
    author: null,
    categories: [],
    publishedAt: NOW + n * 60_000,
    updatedAt: null,
    // As feeds give it: PostgreSQL stems an item's words by its language.
    language: /\p{Script=Cyrillic}/u.test(title) ? 'ru' : 'en',
    image: null,
    enclosures: [],
    contentHash: `h-${n}`,
  };
}

// Oldest first: the n-th is published n minutes after NOW.
const ITEMS: [string, string][] = [
  ['Переговоры в Казахстане', 'Делегации встретились в Астане'],
  ['Экспорт зерна из Казахстана вырос', 'Урожай пшеницы стал рекордным'],
  ['Встреча с Путиным', 'Стороны обсудили сотрудничество'],
  ['Путин прибыл в Астану', 'Визит продлится два дня'],
  ['Казань принимает форум', 'Султан Омана прибыл на форум'],
  ['Саммит в Нур-Султане', 'Лидеры обсудили безопасность'],
  ['UN peacekeepers arrive', 'The mission starts on Monday'],
  ['A peacekeeper was injured', 'Kazakhstan’s contingent reported the incident'],
  ['Wheat prices', 'Kazakhstan and Russia export wheat; Kazakhstan expects a record harvest'],
];

describe.each(ENGINES)('search by word form (%s)', (engine) => {
  const use = useEngine(engine);
  let store: Store;
  beforeEach(async () => {
    store = await use.open();
    await store.sources.sync([{ id: 'wire', url: 'https://wire.example/rss' }]);
    for (const [n, [title, text]] of ITEMS.entries()) await store.items.insert(item(n, title, text), `urn:uuid:${n}`, NOW);
  });
  const found = async (text: string, sort: 'relevance' | 'date' = 'date') => (await store.items.list({ search: searchFor(text), sort, limit: 50 })).map((i) => i.title);

  it('finds every form of a Russian word from its dictionary form, and the reverse', async () => {
    expect(await found('Казахстан')).toEqual(['Экспорт зерна из Казахстана вырос', 'Переговоры в Казахстане']);
    expect(await found('Казахстане')).toEqual(['Экспорт зерна из Казахстана вырос', 'Переговоры в Казахстане']);
    expect(await found('Путин')).toEqual(['Путин прибыл в Астану', 'Встреча с Путиным']);
    expect(await found('Путиным')).toEqual(['Путин прибыл в Астану', 'Встреча с Путиным']);
    expect(await found('Астана')).toEqual(['Путин прибыл в Астану', 'Переговоры в Казахстане']);
    expect(await found('делегация')).toEqual(['Переговоры в Казахстане']);
    // Another word that begins alike is not a form.
    expect(await found('Казань')).toEqual(['Казань принимает форум']);
  });

  it('finds plurals and singulars of an English word alike', async () => {
    expect(await found('peacekeeper')).toEqual(['A peacekeeper was injured', 'UN peacekeepers arrive']);
    expect(await found('peacekeepers')).toEqual(['A peacekeeper was injured', 'UN peacekeepers arrive']);
    expect(await found('Kazakhstan')).toEqual(['Wheat prices', 'A peacekeeper was injured']);
  });

  it('finds a hyphenated name in its forms, and not by one of its parts alone', async () => {
    expect(await found('Нур-Султан')).toEqual(['Саммит в Нур-Султане']);
    expect(await found('Султан')).toEqual(['Саммит в Нур-Султане', 'Казань принимает форум']);
  });

  it('keeps "quoted phrases" exact, and reads word* as the beginning of a word', async () => {
    expect(await found('"в Казахстане"')).toEqual(['Переговоры в Казахстане']);
    expect(await found('"в Казахстан"')).toEqual([]);
    expect(await found('"из Казахстана вырос"')).toEqual(['Экспорт зерна из Казахстана вырос']);
    expect(await found('Казах*')).toEqual(['Экспорт зерна из Казахстана вырос', 'Переговоры в Казахстане']);
    expect(await found('peacekeep*')).toEqual(['A peacekeeper was injured', 'UN peacekeepers arrive']);
  });

  it('reads OR as either, and -word or NOT word as without', async () => {
    expect(await found('Казань OR Путин')).toEqual(['Казань принимает форум', 'Путин прибыл в Астану', 'Встреча с Путиным']);
    expect(await found('Астана Путин OR переговоры')).toEqual(['Путин прибыл в Астану', 'Переговоры в Казахстане']);
    expect(await found('Казахстан -зерно')).toEqual(['Переговоры в Казахстане']);
    expect(await found('Казахстан NOT зерно')).toEqual(['Переговоры в Казахстане']);
    expect(await found('Kazakhstan -"record harvest"')).toEqual(['A peacekeeper was injured']);
    expect(await found('Путин NOT Астана NOT Казань')).toEqual(['Встреча с Путиным']);
  });

  it('ranks by relevance: a word in the title, or said more often, comes first; sort=date lists newest first', async () => {
    expect(await found('Kazakhstan', 'relevance')).toEqual(['Wheat prices', 'A peacekeeper was injured']);
    expect(await found('Астана', 'relevance')).toEqual(['Путин прибыл в Астану', 'Переговоры в Казахстане']);
    expect(await found('форум', 'relevance')).toEqual(['Казань принимает форум']);
    const ranked = await store.items.list({ search: searchFor('Казахстан'), limit: 50 });
    expect(ranked.map((i) => i.title)).toEqual(['Переговоры в Казахстане', 'Экспорт зерна из Казахстана вырос']);
    expect(ranked[0]!.score!).toBeLessThanOrEqual(ranked[1]!.score!);
  });
});

describe('reading a search', () => {
  const reason = (text: string) => {
    const parsed = parseSearch(text);
    return parsed.ok ? undefined : parsed.message;
  };

  it('reads words, phrases, prefixes, alternatives and exclusions', () => {
    expect(parseSearch('Казахстан "Астана Ёлка" peace* Нур-Султан -Kazan NOT "CST zone" a OR b')).toEqual({
      ok: true,
      query: {
        all: [
          [{ kind: 'forms', words: ['казахстан'] }],
          [{ kind: 'phrase', words: ['астана', 'елка'] }],
          [{ kind: 'prefix', words: ['peace'] }],
          [{ kind: 'forms', words: ['нур', 'султан'] }],
          [{ kind: 'forms', words: ['a'] }, { kind: 'forms', words: ['b'] }],
        ],
        none: [
          { kind: 'forms', words: ['kazan'] },
          { kind: 'phrase', words: ['cst', 'zone'] },
        ],
      },
    });
    // Lowercase or and not are words; punctuation alone, and FTS5 syntax, is no operator.
    expect(parseSearch('war or not peace - NEAR(x y) col:title ^z')).toMatchObject({ ok: true, query: { none: [] } });
  });

  it('says why a search cannot be read', () => {
    expect(reason('"Astana talks')).toBe('the quote in "Astana talks is not closed');
    expect(reason('Astana "talks')).toBe('the quote in "talks is not closed');
    expect(reason('""')).toBe('the quotes "" hold no word');
    expect(reason('OR')).toMatch(/^OR needs a word or a "phrase" on each side/);
    expect(reason('Astana OR')).toMatch(/^OR needs a word/);
    expect(reason('Astana OR OR Almaty')).toMatch(/^OR needs a word/);
    expect(reason('NOT')).toMatch(/^NOT needs a word or a "phrase" after it/);
    expect(reason('Astana NOT -Almaty')).toMatch(/^NOT needs a word/);
    expect(reason('Astana OR -Almaty')).toBe('-Almaty: an excluded word cannot be one side of OR');
    expect(reason('*')).toBe('*: a * goes right after the beginning of a word, as in kaz*');
    expect(reason('ka*z')).toBe('ka*z: a * goes right after the beginning of a word, as in kaz*');
    expect(reason('kaz-*')).toBe('kaz-*: a * goes right after the beginning of a word, as in kaz*');
    expect(reason('ka*')).toBe('ka*: a prefix needs at least 3 letters before the *');
    expect(reason('-Kazan')).toBe('the search only excludes words; give a word to look for too');
    expect(reason('- & —')).toBe('the search has no word to look for');
    expect(reason('a'.repeat(MAX_QUERY_LENGTH + 1))).toBe(`the search is longer than ${MAX_QUERY_LENGTH} characters`);
    expect(reason('Astana\u0000')).toBe('the search contains a control character');
    expect(reason(Array.from({ length: 17 }, (_, i) => `w${i}`).join(' '))).toBe('the search has 17 words; at most 16 are looked for');
    expect(reason('Astana\tAlmaty\n')).toBeUndefined();
  });
});
