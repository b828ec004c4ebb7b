// Synthetic news for benchmarks and drills: realistic English and Russian wire items (some about the
// default topics, most not) and RSS 2.0 text shaped like TASS's feeds.

// Vocabularies large enough that two unrelated synthetic items share few words, as two different stories
// of a wire do; one item in ten names a topic of the default config. (A handful of fixed phrases would make
// every item a near-duplicate of thousands of others: the worst case for story dedup, not a news wire.)
const EN_WORDS = `government minister president parliament election coalition opposition reform budget inflation
  currency exchange rate bank loan investment export import tariff sanction embargo pipeline refinery grain wheat harvest
  drought flood earthquake wildfire rescue hospital vaccine clinic doctors teachers school university students research
  satellite launch rocket station airport railway highway bridge tunnel port shipping container freight truck drivers
  strike union wages pension housing prices rent mortgage tourism hotel festival museum exhibition theatre concert film
  football hockey tennis championship tournament coach season league stadium court judge trial verdict prosecutor police
  arrest investigation fraud corruption bribery smuggling border customs migration refugees visa embassy consulate summit
  delegation treaty agreement memorandum cooperation partnership dialogue negotiations ceasefire troops exercise drills
  navy aircraft drone missile defense security intelligence cyber attack hackers software internet telecom mobile network
  energy electricity nuclear plant solar wind coal gas oil prices output quota cartel market stocks shares bonds index
  company merger acquisition profit revenue losses factory plant workers automobile steel copper aluminium gold mining
  water reservoir irrigation canal forest wildlife climate emissions summit pollution recycling waste city mayor council
  region governor province district village farmers livestock cattle fishing fleet weather snow storm temperature record
  census population birth rate family children youth volunteers charity church mosque religious leaders council`
  .split(/\s+/).filter(Boolean);
const RU_WORDS = `правительство министр президент парламент выборы коалиция оппозиция реформа бюджет инфляция
  валюта курс банк кредит инвестиции экспорт импорт пошлина санкции эмбарго трубопровод завод зерно пшеница урожай
  засуха наводнение землетрясение пожар спасатели больница вакцина клиника врачи учителя школа университет студенты
  исследование спутник запуск ракета станция аэропорт железная дорога трасса мост тоннель порт контейнер груз водители
  забастовка профсоюз зарплата пенсия жилье цены аренда ипотека туризм гостиница фестиваль музей выставка театр концерт
  фильм футбол хоккей теннис чемпионат турнир тренер сезон лига стадион суд судья приговор прокурор полиция задержание
  расследование мошенничество коррупция взятка контрабанда граница таможня миграция беженцы виза посольство консульство
  делегация договор соглашение меморандум сотрудничество партнерство диалог переговоры перемирие войска учения флот
  самолет беспилотник ракета оборона безопасность разведка кибератака хакеры интернет связь сеть энергетика
  электричество атомная станция солнечная ветровая уголь газ нефть добыча квота рынок акции облигации индекс компания
  слияние прибыль выручка убытки фабрика рабочие автомобиль сталь медь алюминий золото шахта вода водохранилище
  орошение канал лес климат выбросы загрязнение отходы город мэр совет область губернатор район село фермеры скот
  рыболовство погода снег шторм температура рекорд перепись население рождаемость семья дети молодежь волонтеры`
  .split(/\s+/).filter(Boolean);
const EN_TOPICS = ['Kazakhstan', 'Astana', 'Tokayev', 'the CSTO'];
const RU_TOPICS = ['Казахстане', 'Астане', 'Токаев', 'ОДКБ'];

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
  const russian = feed % 2 === 1;
  const vocabulary = russian ? RU_WORDS : EN_WORDS;
  const words = (n: number) => Array.from({ length: n }, () => vocabulary[Math.floor(random() * vocabulary.length)]!).join(' ');
  const topic = random() < 0.1 ? ` ${(russian ? RU_TOPICS : EN_TOPICS)[Math.floor(random() * 4)]}` : '';
  const title = `${words(7)}${topic}`;
  return {
    guid: `https://wire${feed}.example/${russian ? 'ru' : 'en'}/${index}`,
    title: `${title[0]!.toUpperCase()}${title.slice(1)}`,
    description: `${words(18)}.`,
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

/** Atom 1.0 text of the same items: an HTML summary, a category each, an enclosure link. */
export function atomFeed(title: string, items: SyntheticItem[]): string {
  const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]!};`);
  const body = items
    .map(
      (item) => `<entry><id>${item.guid}</id><title type="text">${escape(item.title)}</title><link rel="alternate" href="${item.guid}"/>` +
        `<updated>${new Date(item.pubDate).toISOString()}</updated><summary type="html">${escape(`<p>${item.description}</p>`)}</summary>` +
        `<link rel="enclosure" href="${item.guid}.jpg" length="0" type="image/jpeg"/>${item.categories.map((c) => `<category term="${escape(c)}"/>`).join('')}</entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>${title}</title><id>https://wire.example/</id><updated>2026-11-01T00:00:00Z</updated><link href="https://wire.example/"/>\n${body}\n</feed>\n`;
}
