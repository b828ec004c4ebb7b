import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig, type TestConfig } from './helpers/config.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { newsloom } from './helpers/process.ts';

const page = (name: string) => readFileSync(new URL(`fixtures/ru-site/${name}`, import.meta.url));
const html = { 'content-type': 'text/html' };

describe('newsloom try-source', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let configFile: string;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/news/', { body: page('news.html'), headers: html });
    server.set('/news/2022/01/10/tokaev-nazval-besporyadki-popytkoy-perevorota.html', { body: page('tokaev-nazval-besporyadki-popytkoy-perevorota.html'), headers: html });
    setup = testConfig('');
    configFile = path.join(setup.dir, 'newsloom.yaml');
    writeFileSync(
      configFile,
      `sources:
  - id: vesti
    url: "${server.url}/news/"
    kind: html
    timezone: Europe/Moscow
    html:
      item: .news-item
      title: .news-item__title
      link: .news-item__title a@href
      date: .news-item__date
      image: .news-item__photo@src
    full_text: { selector: .article__text, remove: [.share] }
`,
    );
  });

  afterEach(async () => {
    await server.close();
    setup.cleanup();
  });

  it('prints what the configured selectors find, which one found nothing, and how the first article reads', async () => {
    const run = await newsloom(['try-source', 'vesti', '--config', configFile]);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`vesti: 4 items from ${server.url}/news/`);
    expect(lines[1]).toMatch(/^title\s+link\s+date$/);
    expect(lines[5]).toMatch(new RegExp(`^Совет муфтиев провел заседание\\s+${server.url}/news/2022/01/09/sovet-muftiev.html\\s+2022-01-09T06:15:00Z$`));
    expect(run.stdout).toContain('the image selector ".news-item__photo@src" found nothing in any of the 4 items');
    expect(run.stdout).toMatch(/full text of the first item: \d+ characters of text from .*tokaev/);
    // A missing image is worth a look, but the source works.
    expect(run.code).toBe(0);
    // One fetch of the list and one of the first article: nothing else.
    expect(server.requests.map((r) => r.path)).toEqual(['/news/', '/news/2022/01/10/tokaev-nazval-besporyadki-popytkoy-perevorota.html']);
  });

  it('tries selectors given on the command line, and says when the item selector finds nothing', async () => {
    const good = await newsloom(['try-source', '--url', `${server.url}/news/`, '--item', '.news-item', '--title', 'h3', '--link', 'h3 a@href']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('Миротворцы ОДКБ начнут отвод контингента 13 января');
    expect(good.stdout).toContain('(none)');

    const wrong = await newsloom(['try-source', '--url', `${server.url}/news/`, '--item', '.article-card']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe(`try: 0 items from ${server.url}/news/\nthe item selector ".article-card" found nothing on ${server.url}/news/: has the site's layout changed?\n`);
  });

  it('says which required selector found nothing and exits 1', async () => {
    const run = await newsloom(['try-source', '--url', `${server.url}/news/`, '--item', '.news-item', '--title', '.headline']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('the title selector ".headline" found nothing in any of the 4 items');
  });
});
