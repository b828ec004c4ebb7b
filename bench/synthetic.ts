// Synthetic news for benchmarks and drills: realistic English and Russian wire items (some about the
// default topics, most not) and RSS 2.0 text shaped like TASS's feeds.

const EN_SUBJECTS = ['Tokayev', 'Lavrov', 'The CSTO secretary general', 'Kazakhstan', 'The Russian Foreign Ministry', 'Uzbekistan', 'The Kremlin', 'Oil producers', 'The Central Bank', 'Astana', 'Kazan', 'The UN Security Council'];
const EN_VERBS = ['calls for', 'announces', 'comments on', 'rejects', 'welcomes', 'discusses', 'prepares', 'reviews'];
const EN_OBJECTS = ['talks on border security', 'new trade agreement', 'situation in the region', 'peacekeeping mission', 'energy cooperation', 'summit preparations', 'grain exports', 'joint military drills'];
const RU_SUBJECTS = ['Токаев', 'Лавров', 'Генсек ОДКБ', 'Казахстан', 'МИД России', 'Узбекистан', 'Кремль', 'Нефтяники', 'ЦБ', 'Власти Астаны', 'Казань', 'Совбез ООН'];
const RU_VERBS = ['призвал к', 'объявил о', 'прокомментировал', 'отверг', 'приветствовал', 'обсудил', 'подготовил', 'рассмотрел'];
const RU_OBJECTS = ['переговорам о безопасности границ', 'новом торговом соглашении', 'ситуацию в регионе', 'миротворческую миссию', 'энергетическое сотрудничество', 'подготовку к саммиту', 'экспорт зерна', 'совместные учения'];

export interface SyntheticItem {
  guid: string;
  title: string;
  description: string;
  pubDate: string;
  categories: string[];
}

/** A deterministic pseudo-random generator, so that every run benchmarks the same text. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

export function syntheticItem(feed: number, index: number, newest = Date.UTC(2026, 10, 1)): SyntheticItem {
  const random = prng(feed * 100_003 + index * 7 + 1);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const russian = feed % 2 === 1;
  const title = russian
    ? `${pick(RU_SUBJECTS)} ${pick(RU_VERBS)} ${pick(RU_OBJECTS)}`
    : `${pick(EN_SUBJECTS)} ${pick(EN_VERBS)} ${pick(EN_OBJECTS)}`;
  const description = russian
    ? `${pick(RU_SUBJECTS)} ${pick(RU_VERBS)} ${pick(RU_OBJECTS)}, сообщил источник ${index}.`
    : `${pick(EN_SUBJECTS)} ${pick(EN_VERBS)} ${pick(EN_OBJECTS)}, a source said on day ${index}.`;
  return {
    guid: `https://wire${feed}.example/${russian ? 'ru' : 'en'}/${index}`,
    title: `${title} (${feed}-${index})`,
    description,
    pubDate: new Date(newest - index * 60_000 - feed * 1_000).toUTCString(),
    categories: russian ? ['Международная панорама'] : ['World'],
  };
}

const cdata = (text: string) => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/** RSS 2.0 text shaped like TASS: link and guid in CDATA, one-sentence description, an enclosure. */
export function rssFeed(title: string, items: SyntheticItem[]): string {
  const body = items
    .map(
      (item) => `<item><title>${cdata(item.title)}</title><link>${cdata(item.guid)}</link><guid>${cdata(item.guid)}</guid>` +
        `<pubDate>${item.pubDate}</pubDate><description>${cdata(item.description)}</description>` +
        `<enclosure url="${item.guid}.jpg" length="0" type="image/jpeg"/>${item.categories.map((c) => `<category>${cdata(c)}</category>`).join('')}</item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:atom="https://www.w3.org/2005/Atom"><channel><title>${title}</title><link>https://wire.example/</link><description>${title}</description>\n${body}\n</channel></rss>\n`;
}
