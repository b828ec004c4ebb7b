// A running newsloom (server and store, no polling) holding items a test chose, for tests of what
// subscribers receive. Items go straight into the store, so they can hold what no parser would pass.
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import type { Item } from '../../src/item.ts';
import { silentLogger } from '../../src/log.ts';
import type { StorageConfig } from '../../src/store/store.ts';
import { itemUid } from '../../src/text/uid.ts';
import { testConfig, type TestConfig } from './config.ts';

export interface Publishing {
  daemon: Daemon;
  url: string;
  /** Stores an item (topics given as ids) and returns its row id. */
  add(item: Partial<Item> & { title: string; sourceId: string }, topics?: string[], now?: number): Promise<number>;
  stop(): Promise<void>;
}

export const CONFIG = `
server: { cache_max_age: 2m }
sources:
  - { id: tass-ru, title: ТАСС, url: "http://127.0.0.1:9/tass-ru.xml", language: ru }
  - { id: notes, url: "http://127.0.0.1:9/notes.atom" }
topics:
  - { id: kazakhstan, title: "Казахстан 🇰🇿", description: "Новости о Казахстане & <соседях>", any: [Казахстан*] }
  - { id: csto, title: CSTO, any: [CSTO] }
outputs:
  - { id: everything, title: "Всё & everything", description: "Every item, \\"quoted\\" & <escaped>" }
  - { id: kz, title: Kazakhstan, topics: [kazakhstan] }
`;

/** `storage`: an engine's database (tests/helpers/engines.ts); a SQLite file of its own by default. */
export async function startPublishing(yaml = CONFIG, storage?: StorageConfig): Promise<Publishing> {
  const setup: TestConfig = testConfig(yaml, storage);
  const daemon = await startDaemon(setup.config, silentLogger, { schedule: false });
  // The daemon applies the topic rules to what is stored when it starts (a first start too): let that finish before the
  // test stores items with topics of its own choosing, which a later re-tagging would replace with the rules' answer.
  await daemon.retagging;
  const { store } = daemon.context;
  let counter = 0;
  return {
    daemon,
    url: daemon.url,
    async add(partial, topics = [], now = Date.UTC(2026, 0, 1)) {
      counter++;
      const item: Item = {
        guid: `guid-${counter}`,
        url: null,
        canonicalUrl: null,
        summaryHtml: '',
        contentHtml: '',
        summaryText: '',
        contentText: '',
        author: null,
        categories: [],
        publishedAt: now,
        updatedAt: null,
        language: null,
        image: null,
        enclosures: [],
        contentHash: `hash-${counter}`,
        ...partial,
      };
      const id = await store.items.insert(item, itemUid(item.sourceId, `guid:${item.guid}`), now);
      await store.items.setTopics(
        id,
        topics.map((topic) => ({ topic, matches: [] })),
      );
      return id;
    },
    async stop() {
      await daemon.stop(1_000);
      setup.cleanup();
    },
  };
}
