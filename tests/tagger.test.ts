import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { compileTopics, evaluate, tagItem, topicsHash, type TaggableItem } from '../src/pipeline/tagger.ts';
import { formStems, stem, tokenize } from '../src/text/words.ts';

const SOURCES = `sources:\n  - { id: a, url: "https://a.example/" }\n  - { id: b, url: "https://b.example/" }\n`;
const topics = (yaml: string) => parseConfig(`${SOURCES}topics:\n${yaml}`, 'test.yaml', {}).topics;
const item = (fields: Partial<TaggableItem>): TaggableItem => ({
  sourceId: 'src',
  language: null,
  title: '',
  summaryText: '',
  contentText: '',
  categories: [],
  author: null,
  ...fields,
});
const tagged = (yaml: string, fields: Partial<TaggableItem>) => tagItem(compileTopics(topics(yaml)), item(fields)).map((t) => t.topic);
const problems = (yaml: string) => {
  try {
    topics(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the config was accepted');
};

describe('words', () => {
  it('knows that Snowball alone gives different stems for forms of one name', () => {
    expect(stem('казахстан')).not.toBe(stem('казахстане'));
  });

  it('gives a term word the stems of all its forms, so any form of the text word is found', () => {
    const forms = formStems('казахстан');
    for (const word of ['казахстан', 'казахстана', 'казахстане', 'казахстану', 'казахстаном']) expect(forms).toContain(stem(word));
    for (const word of ['казань', 'казани', 'казаки', 'казахстанский', 'узбекистан']) expect(forms).not.toContain(stem(word));
    const astana = formStems('астана');
    for (const word of ['астана', 'астаны', 'астане', 'астану', 'астаной']) expect(astana).toContain(stem(word));
  });

  it('tokenizes on Unicode word boundaries, folding case, accents and ё, with offsets into the text', () => {
    const text = 'Ёлка — Café, Kazakhstan’s';
    expect(tokenize(text).map((t) => [t.word, text.slice(t.start, t.end)])).toEqual([
      ['елка', 'Ёлка'],
      ['cafe', 'Café'],
      ['kazakhstan', 'Kazakhstan'],
      ['s', 's'],
    ]);
    expect(tokenize('İzmir').map((t) => t.word)).toEqual(['i̇zmir']);
  });
});

describe('topic terms', () => {
  const kz = `  - { id: kz, any: [Казахстан, Kazakh] }\n`;

  it('finds a word in any of its inflected forms, in Russian and English', () => {
    for (const title of ['Казахстан', 'в Казахстане', 'у Казахстана', 'с Казахстаном', 'Казахстану', 'Kazakhs vote']) expect(tagged(kz, { title }), title).toEqual(['kz']);
  });

  it('does not confuse a word with its false friends', () => {
    for (const title of ['В Казани', 'Казаки провели парад', 'Kazan summit', 'Cossack choir', 'казахстанский экспорт', 'Узбекистан']) expect(tagged(kz, { title }), title).toEqual([]);
  });

  it('finds a phrase in any case, word by word', () => {
    const csto = `  - { id: csto, any: [Организация Договора о коллективной безопасности] }\n`;
    for (const title of ['Организации Договора о коллективной безопасности', 'Организацией Договора о коллективной безопасности', 'организацию договора о коллективной безопасности'])
      expect(tagged(csto, { title }), title).toEqual(['csto']);
    expect(tagged(csto, { title: 'Организация по безопасности и сотрудничеству' })).toEqual([]);
    // A word inside a phrase has short forms too (силы → сил), which its first word keeps from matching alone.
    const forces = `  - { id: ksor, any: [Коллективные силы оперативного реагирования] }\n`;
    expect(tagged(forces, { title: 'Командующий Коллективных сил оперативного реагирования' })).toEqual(['ksor']);
    expect(tagged(forces, { title: 'Нет сил' })).toEqual([]);
  });

  it('finds a hyphenated name in every case form, whatever the length of its parts', () => {
    const names = `  - { id: t, any: [Алма-Ата, Нур-Султан, Усть-Каменогорск, Улан-Удэ, Санкт-Петербург, Ust-Kamenogorsk] }\n`;
    const forms = [
      'Алма-Ата', 'из Алма-Аты', 'к Алма-Ате', 'в Алма-Ату', 'под Алма-Атой', 'об Алма-Ате',
      'Нур-Султан', 'из Нур-Султана', 'к Нур-Султану', 'над Нур-Султаном', 'в Нур-Султане',
      'Усть-Каменогорск', 'из Усть-Каменогорска', 'к Усть-Каменогорску', 'за Усть-Каменогорском', 'в Усть-Каменогорске',
      // The second part does not decline: every case is written alike.
      'в Улан-Удэ', 'из Улан-Удэ',
      'Санкт-Петербург', 'из Санкт-Петербурга', 'к Санкт-Петербургу', 'над Санкт-Петербургом', 'в Санкт-Петербурге',
      'Ust-Kamenogorsk', 'Алма‑Ате (a non-breaking hyphen)', 'АЛМА-АТЫ',
    ];
    for (const title of forms) expect(tagged(names, { title }), title).toEqual(['t']);
  });

  it('never finds a hyphenated name by one of its parts alone', () => {
    const names = `  - { id: t, any: [Алма-Ата, Нур-Султан, Усть-Каменогорск, Улан-Удэ, Санкт-Петербург] }\n`;
    const parts = ['Султан Омана прибыл с визитом', 'султаном Брунея', 'Ата и Алма', 'Алма — яблоко по-казахски', 'ат', 'Петербург', 'в Петербурге', 'Улан', 'Удэ', 'устье реки'];
    for (const title of parts) expect(tagged(names, { title }), title).toEqual([]);
    // A short part matches its own forms only: not a shorter word, nor another word after the first part.
    for (const title of ['Алма ат', 'Алма атака', 'Алма атлас']) expect(tagged(names, { title }), title).toEqual([]);
  });

  it('matches =words exactly: same letters, same case, no other forms', () => {
    const yaml = `  - { id: sco, any: ["=SCO"] }\n`;
    expect(tagged(yaml, { title: 'SCO summit' })).toEqual(['sco']);
    expect(tagged(yaml, { title: 'Sco summit' })).toEqual([]);
    expect(tagged(yaml, { title: 'SCOs summit' })).toEqual([]);
  });

  it('matches word* as a prefix of one word', () => {
    const yaml = `  - { id: t, any: [казахстанц*] }\n`;
    expect(tagged(yaml, { title: 'казахстанцы' })).toEqual(['t']);
    expect(tagged(yaml, { title: 'казахстан' })).toEqual([]);
  });

  it('matches short words only as themselves', () => {
    const yaml = `  - { id: t, any: [ШОС, CSTO] }\n`;
    expect(tagged(yaml, { title: 'Саммит ШОС' })).toEqual(['t']);
    expect(tagged(yaml, { title: 'Ремонт шоссе' })).toEqual([]);
    expect(tagged(yaml, { title: 'CST-100 Starliner, 10:00 CST' })).toEqual([]);
  });

  it('matches /regex/ on whole words, Cyrillic included', () => {
    const yaml = `  - { id: t, any: ["/кол+ектив\\\\p{L}*/i"] }\n`;
    expect(tagged(yaml, { title: 'Коллективные силы' })).toEqual(['t']);
    expect(tagged(yaml, { title: 'неколлективные' })).toEqual([]);
  });

  it('requires every all group and no not term, in the fields, sources and languages it is limited to', () => {
    const yaml = `  - id: t
    any: [Kazakhstan]
    all: [[wheat, grain], export]
    not: [football]
    fields: [title, summary]
    sources: [a]
    languages: [en]
`;
    const ok = { sourceId: 'a', language: 'en-US', title: 'Kazakhstan wheat', summaryText: 'export rises' };
    expect(tagged(yaml, ok)).toEqual(['t']);
    expect(tagged(yaml, { ...ok, title: 'Kazakhstan oil' })).toEqual([]);
    expect(tagged(yaml, { ...ok, summaryText: 'export rises after football' })).toEqual([]);
    expect(tagged(yaml, { ...ok, summaryText: '', contentText: 'export rises' })).toEqual([]);
    expect(tagged(yaml, { ...ok, sourceId: 'b' })).toEqual([]);
    expect(tagged(yaml, { ...ok, language: 'ru' })).toEqual([]);
    expect(tagged(yaml, { ...ok, language: null })).toEqual([]);
  });

  it('searches the author and categories fields', () => {
    expect(tagged(kz, { author: 'Kazakh Service' })).toEqual(['kz']);
    expect(tagged(kz, { categories: ['Economy', 'Казахстан'] })).toEqual(['kz']);
  });

  it('composes topics by reference, explaining through which topic a term came', () => {
    const tagger = compileTopics(
      topics(`  - { id: both, all: ["topic:kz", "topic:csto"] }
  - { id: kz, any: [Kazakhstan] }
  - { id: csto, any: [CSTO] }
  - { id: kz-only, any: ["topic:kz"], not: ["topic:csto"] }
`),
    );
    const tags = tagItem(tagger, item({ title: 'CSTO troops leave Kazakhstan' }));
    expect(tags.map((t) => t.topic)).toEqual(['both', 'kz', 'csto']);
    expect(tags[0]!.matches).toEqual([
      { term: 'Kazakhstan', field: 'title', matched: 'Kazakhstan', via: 'kz' },
      { term: 'CSTO', field: 'title', matched: 'CSTO', via: 'csto' },
    ]);
    expect(tagItem(tagger, item({ title: 'Kazakhstan wheat' })).map((t) => t.topic)).toEqual(['kz', 'kz-only']);
  });

  it('records which term matched which words in which field, as the text wrote them', () => {
    const tagger = compileTopics(topics(`  - { id: csto, any: [Договор о коллективной безопасности, CSTO] }\n`));
    const [tag] = tagItem(tagger, item({ title: 'Генсек ОДКБ', summaryText: 'Члены Организации Договора о Коллективной безопасности', contentText: 'CSTO' }));
    expect(tag!.matches).toEqual([
      { term: 'Договор о коллективной безопасности', field: 'summary', matched: 'Договора о Коллективной безопасности' },
      { term: 'CSTO', field: 'content', matched: 'CSTO' },
    ]);
  });

  it('says why a topic with matching terms was not given', () => {
    const tagger = compileTopics(topics(`  - { id: t, any: [Kazan], not: [Kazan Cathedral] }\n`));
    const [verdict] = evaluate(tagger, item({ title: 'Kazan Cathedral closes' }));
    expect(verdict).toMatchObject({ topic: 't', tagged: false, matches: [{ term: 'Kazan' }], blockedBy: [{ term: 'Kazan Cathedral', matched: 'Kazan Cathedral' }] });
  });

  it('changes the rules hash with the rules, not with titles', () => {
    const a = topicsHash(topics(`  - { id: t, title: A, any: [x] }\n`));
    expect(topicsHash(topics(`  - { id: t, title: B, any: [x] }\n`))).toBe(a);
    expect(topicsHash(topics(`  - { id: t, title: A, any: [y] }\n`))).not.toBe(a);
  });
});

describe('topic rules in the config', () => {
  it('names the file, line and field of a bad term', () => {
    expect(problems(`  - id: t\n    any: ["/(unclosed/"]\n`)).toMatch(/^test.yaml:6:11: topics\[0\].any\[0\]: \/\(unclosed\/ is not a valid regular expression/);
    expect(problems(`  - id: t\n    any: [ok, "ka*"]\n`)).toMatch(/^test.yaml:6:15: topics\[0\].any\[1\]: "ka\*": a prefix needs at least 3 letters/);
    expect(problems(`  - id: t\n    any: ["—"]\n`)).toMatch(/topics\[0\].any\[0\]: "—" has no letters or digits/);
  });

  it('rejects a topic without terms, unknown topic references and loops', () => {
    expect(problems(`  - { id: t, not: [x] }\n`)).toMatch(/topics\[0\]: a topic needs at least one term in "any" or "all"/);
    expect(problems(`  - { id: t, all: ["topic:nope"] }\n`)).toMatch(/topics\[0\].all\[0\]: unknown topic "nope"/);
    expect(problems(`  - { id: a, any: ["topic:b"] }\n  - { id: b, any: [x, "topic:a"] }\n`)).toMatch(/topics\[0\].id: topic references loop: a → b → a/);
  });

  it('checks the topics an output filters by, in either form', () => {
    const message = (() => {
      try {
        parseConfig(`topics:\n  - { id: t, any: [x] }\noutputs:\n  - { id: o, title: O, topics: { all: [t], not: [nope] } }\n`, 'test.yaml', {});
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^test.yaml:4:\d+: outputs\[0\].topics.not\[0\]: unknown topic "nope"$/);
  });
});
