// A newsloom serving a small newsroom, stored through the real pipeline (tagging, stories): Russian and English
// TASS, a GSV repost of each language's lead story, an entry with its own author and an image, and enough
// English items to page through. For the tests of the HTML pages, in and out of a browser.
import { deflateSync } from 'node:zlib';
import type { RawItem } from '../../src/item.ts';
import { prepareItems, storeItems } from '../../src/pipeline/ingest.ts';
import { normalize } from '../../src/pipeline/normalize.ts';
import { startFixtureServer } from './fixture-server.ts';
import { startPublishing, type Publishing } from './publish.ts';

export const NEWS_CONFIG = `
server: { cache_max_age: 2m }
sources:
  - { id: tass-ru, title: ТАСС, url: "http://127.0.0.1:9/tass-ru.xml", language: ru }
  - { id: gsv-ru, title: ГСВ «Россия — Исламский мир», url: "http://127.0.0.1:9/gsv-ru.xml", language: ru }
  - { id: tass-en, title: TASS, url: "http://127.0.0.1:9/tass-en.xml", language: en }
  - { id: gsv-en, title: GSV, url: "http://127.0.0.1:9/gsv-en.xml" }
topics:
  - { id: kazakhstan, title: Казахстан, any: [Казахстан*, Астан*, Kazakh*, Astana] }
  - { id: csto, title: ОДКБ / CSTO, any: [ОДКБ, CSTO] }
outputs:
  - { id: everything, title: Всё, description: Every item of every source }
  - { id: kz, title: Kazakhstan, topics: [kazakhstan] }
  - { id: csto, title: CSTO, topics: [csto], every_item: true }
  - { id: kz-calm, title: Kazakhstan without the CSTO, topics: { any: [kazakhstan, csto], not: [csto] } }
  - { id: tass-kz, title: TASS on Kazakhstan, topics: [kazakhstan], sources: [tass-ru, tass-en] }
`;

export const NOW = Date.UTC(2026, 5, 1, 12);
const MINUTE = 60_000;

/** A small PNG of one colour: an entry's image, served on loopback. */
export function png(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

const RU_LEAD = 'Президент Казахстана Касым-Жомарт Токаев провёл в Астане переговоры с президентом Узбекистана Шавкатом Мирзиёевым, стороны обсудили торговлю, транспорт и водные ресурсы региона.';
const EN_LEAD = 'Peacekeepers of the Collective Security Treaty Organization have completed their withdrawal from Kazakhstan, the CSTO joint staff said on Wednesday, ending the mission in Almaty.';

/** What the newsroom's sources sent, each with the minutes before NOW it was published; IMAGE stands for the photo's URL. */
const IMAGE = 'IMAGE';
const NEWS: { sourceId: string; minutesAgo: number; raw: RawItem }[] = [
  { sourceId: 'tass-ru', minutesAgo: 10, raw: { title: 'Токаев провёл переговоры с президентом Узбекистана в Астане', summary: RU_LEAD, image: IMAGE } },
  { sourceId: 'gsv-ru', minutesAgo: 5, raw: { title: 'В Астане прошли переговоры Токаева и Мирзиёева', summary: `По материалам ТАСС. ${RU_LEAD}` } },
  { sourceId: 'tass-ru', minutesAgo: 20, raw: { title: 'Миротворцы ОДКБ покинули Казахстан', summary: 'Вывод контингента ОДКБ из Казахстана завершён, сообщил Объединённый штаб организации.', author: 'Иван Петров' } },
  { sourceId: 'tass-en', minutesAgo: 15, raw: { title: 'CSTO peacekeepers complete withdrawal from Kazakhstan', summary: EN_LEAD } },
  { sourceId: 'gsv-en', minutesAgo: 12, raw: { title: 'CSTO mission in Kazakhstan is over', summary: `Based on materials from TASS. ${EN_LEAD}` } },
  ...Array.from({ length: 9 }, (_, i) => ({
    sourceId: 'tass-en',
    minutesAgo: 30 + i * 10,
    raw: { title: `Astana hosts trade forum, day ${i + 1}`, summary: `Delegations from ${i + 3} countries met in Astana on day ${i + 1} of the Kazakhstan trade forum.` },
  })),
];

export interface Newsroom extends Publishing {
  /** The photo's address: a local server stands in for the source's image host. */
  imageUrl: string;
}

export async function startNewsroom(): Promise<Newsroom> {
  const images = await startFixtureServer();
  const imageUrl = `${images.url}/photo.png`;
  images.set('/photo.png', { body: png(160, 90, [40, 90, 160]), headers: { 'content-type': 'image/png' } });
  const pub = await startPublishing(NEWS_CONFIG);
  await seedNews(pub, imageUrl);
  await pub.daemon.context.store.search.settled();
  return {
    ...pub,
    imageUrl,
    async stop() {
      await pub.stop();
      await images.close();
    },
  };
}

async function seedNews(pub: Publishing, imageUrl: string): Promise<void> {
  const ctx = pub.daemon.context;
  const counts = { new: 0, updated: 0, unchanged: 0, merged: 0 };
  // Stored oldest first, as polls would have stored them, so that a repost finds the story it joins.
  for (const [n, { sourceId, minutesAgo, raw }] of [...NEWS.entries()].sort((a, b) => b[1].minutesAgo - a[1].minutesAgo)) {
    const language = ctx.config.sources.find((s) => s.id === sourceId)!.language ?? null;
    const url = `https://${sourceId}.example/news/${n}`;
    const given = { ...raw, image: raw.image === IMAGE ? imageUrl : raw.image };
    const item = normalize({ guid: url, url, published: new Date(NOW - minutesAgo * MINUTE).toISOString(), ...given }, { sourceId, language, baseUrl: url, now: NOW });
    const prepared = await prepareItems(ctx, [item]);
    await ctx.store.transaction((tx) => storeItems(tx, ctx, prepared, NOW, counts));
  }
  if (counts.merged !== 2) throw new Error(`the newsroom's two reposts should each join their story; ${counts.merged} did`);
  await ctx.store.sources.recordSuccess('tass-ru', NOW, { etag: null, lastModified: null });
  await ctx.store.sources.recordFailure('gsv-en', NOW, 'http', 'HTTP 503 from gsv-en.example');
}
