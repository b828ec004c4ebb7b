import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load.ts';
import { parseDuration, parseSize } from '../src/config/units.ts';

const problems = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfig(yaml, 'newsloom.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('the config was accepted');
};

describe('config', () => {
  it('loads the default config that ships with newsloom', () => {
    const config = loadConfig(path.join(import.meta.dirname, '../config/newsloom.yaml'), {});
    expect(config.sources.map((s) => s.id)).toEqual(['tass-en', 'tass-ru', 'gsv-en']);
    expect(config.topics.map((t) => t.id)).toEqual(['kazakhstan', 'csto']);
    expect(config.server.port).toBe(8080);
    expect(config.storage.path).toBe('./data/newsloom.db');
  });

  it('fills defaults for everything left out', () => {
    const config = parseConfig('sources:\n  - id: a\n    url: https://a.example/feed\n', 'c.yaml', {});
    expect(config.sources[0]).toMatchObject({ kind: 'feed', enabled: true, every: { kind: 'interval', ms: 15 * 60_000 } });
    expect(config.fetch).toMatchObject({ timeout: 30_000, max_bytes: 10 * 1024 * 1024, max_redirects: 5 });
  });

  it('accepts cron expressions as a schedule', () => {
    const config = parseConfig('sources:\n  - id: a\n    url: https://a.example/\n    every: "*/20 * * * *"\n', 'c.yaml', {});
    expect(config.sources[0]!.every).toEqual({ kind: 'cron', expression: '*/20 * * * *', timeZone: 'UTC' });
  });

  it("reads a cron schedule in the source's time zone", () => {
    const config = parseConfig('sources:\n  - { id: a, url: "https://a.example/", every: "0 6 * * *", timezone: Europe/Moscow }\n', 'c.yaml', {});
    expect(config.sources[0]!.every).toEqual({ kind: 'cron', expression: '0 6 * * *', timeZone: 'Europe/Moscow' });
  });

  // Each of these passed `check` once and then failed or misbehaved at run time.
  const source = (fields: string) => `sources:\n  - { id: a, url: "https://a.example/", ${fields} }\n`;
  const topic = (fields: string) => `topics:\n  - { id: t, ${fields} }\n`;
  it.each([
    ['a regex term with an unclosed class', topic('any: [Lavrov, "/[unclosed/"]'), 'newsloom.yaml:2:28: topics[0].any[1]: /[unclosed/ is not a valid regular expression: Unterminated character class'],
    ['a regex term that escapes the word wrapper', topic('any: ["/a)|(b/"]'), "newsloom.yaml:2:20: topics[0].any[0]: /a)|(b/ is not a valid regular expression: Unmatched ')'"],
    ['an invalid header name', source('headers: { "X Token": abc }'), 'newsloom.yaml:2:63: sources[0].headers.X Token: "X Token" is not an HTTP header name (letters, digits and -, no spaces or colons)'],
    ['a header value with a line break', source('headers: { X-Token: "a\\r\\nHost: evil" }'), 'newsloom.yaml:2:61: sources[0].headers.X-Token: a header value may not contain line breaks or other control characters'],
    ['a cron step past the end of its field', source('every: "*/61 * * * *"'), 'newsloom.yaml:2:48: sources[0].every: "*/61 * * * *": is not a cron expression: Syntax error, steps cannot be greater than maximum value of part (60)'],
    ['a cron minute out of range', source('every: "61 * * * *"'), 'newsloom.yaml:2:48: sources[0].every: "61 * * * *": is not a cron expression: Invalid value for minute: 61'],
    ['a cron expression that never fires', source('every: "0 0 31 2 *"'), 'newsloom.yaml:2:48: sources[0].every: "0 0 31 2 *": never fires (no date matches it)'],
    ['a cron expression firing every second', source('every: "* * * * * *"'), 'newsloom.yaml:2:48: sources[0].every: fires more than once a minute: a source is polled at most once every 1m (fetch.min_interval)'],
    ['an interval under the floor', source('every: 1s'), 'newsloom.yaml:2:48: sources[0].every: every 1s is too often: a source is polled at most once every 1m (fetch.min_interval)'],
    ['an auto_min under the floor', 'fetch: { auto_min: 10s }', 'newsloom.yaml:1:20: fetch.auto_min: a source is polled at most once every 1m (fetch.min_interval)'],
    ['a link template without its closing brace', source('kind: json, json: { items: "", fields: { title: t, link: "https://a.example/{slug" } }'), 'newsloom.yaml:2:98: sources[0].json.fields.link: "https://a.example/{slug" is not a template: every {path} needs both braces and a path between them (e.g. "https://site/articles/{slug}")'],
    ['a language name instead of its tag', source('language: english'), 'newsloom.yaml:2:51: sources[0].language: "english" is not a BCP 47 language tag: did you mean en?'],
    ['a topic language that is no tag', topic('any: [x], languages: [en_US]'), 'newsloom.yaml:2:36: topics[0].languages[0]: "en_US" is not a BCP 47 language tag: did you mean en-US?'],
    ['an IPv4 address out of range', 'server: { host: 999.1.1.1 }', 'newsloom.yaml:1:17: server.host: "999.1.1.1" is neither an IP address nor a host name (0.0.0.0 listens on every IPv4 address, :: on every address)'],
    ['a housekeeping schedule out of range', 'retention: { schedule: "0 25 * * *" }', 'newsloom.yaml:1:24: retention.schedule: is not a cron expression: Invalid value for hour: 25'],
  ])('check rejects %s', (_, yaml, message) => {
    expect(problems(yaml)).toEqual([message]);
  });

  it('lets fetch.min_interval lower the floor, for tests and drills against servers of your own', () => {
    const config = parseConfig(`fetch: { min_interval: 1s }\n${source('every: 1s')}`, 'c.yaml', {});
    expect(config.sources[0]!.every).toEqual({ kind: 'interval', ms: 1_000 });
  });

  it('accepts what those checks must not reject', () => {
    const config = parseConfig(
      `server: { host: localhost }
sources:
  - { id: a, url: "https://a.example/", every: "0 */2 * * 1-5", language: en-US, headers: { X-Api-Key: "k=1; v" } }
  - { id: b, url: "https://b.example/", every: 1m, kind: json, json: { items: "", fields: { title: t, link: "https://b.example/{ slug }/{id}" } } }
topics:
  - { id: t, any: ["/Лавров(а|ым)?/i", "/a|b/"], languages: [ru, sr-Latn] }
`,
      'c.yaml',
      {},
    );
    expect(config.sources.map((s) => s.every)).toEqual([{ kind: 'cron', expression: '0 */2 * * 1-5', timeZone: 'UTC' }, { kind: 'interval', ms: 60_000 }]);
  });

  it('names the file, line and field of a bad value', () => {
    const lines = problems(`server:
  port: 8080
sources:
  - id: tass-en
    url: https://tass.com/rss/v2.xml
    every: 15x
`);
    expect(lines).toEqual(['newsloom.yaml:6:12: sources[0].every: "15x" is neither an interval (15m, 1h), a cron expression ("*/20 * * * *") nor "auto"']);
  });

  it('names unknown fields, so a typo is never silently ignored', () => {
    expect(problems('sources:\n  - id: a\n    url: https://a.example/\n    evry: 5m\n')).toEqual([
      'newsloom.yaml:4:11: sources[0].evry: unknown field "evry"',
    ]);
  });

  it('reports every problem at once', () => {
    const lines = problems('server:\n  port: 99999\nsources:\n  - id: Bad Id\n    url: ftp://x\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^newsloom.yaml:2:9: server.port: /);
    expect(lines[1]).toMatch(/^newsloom.yaml:4:9: sources\[0\].id: must be lowercase/);
    expect(lines[2]).toMatch(/^newsloom.yaml:5:10: sources\[0\].url: must be an http/);
  });

  it('checks references between outputs, topics and sources', () => {
    const lines = problems(`sources:
  - { id: a, url: "https://a.example/" }
  - { id: a, url: "https://b.example/" }
topics:
  - { id: t, any: [x] }
outputs:
  - { id: o, title: O, topics: [t, nope], sources: [zzz] }
`);
    expect(lines).toEqual([
      'newsloom.yaml:3:11: sources[1].id: duplicate id "a"',
      'newsloom.yaml:7:36: outputs[0].topics[1]: unknown topic "nope"',
      'newsloom.yaml:7:53: outputs[0].sources[0]: unknown source "zzz"',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('sources:\n  - id: a\n   url: [\n')[0]).toMatch(/^newsloom.yaml:\d+:\d+: YAML syntax: /);
  });

  it('applies NEWSLOOM_* environment overrides and blames the variable when one is wrong', () => {
    const config = parseConfig('server:\n  port: 8080\n', 'c.yaml', { NEWSLOOM_PORT: '9090', NEWSLOOM_DATA_DIR: '/data', NEWSLOOM_LOG_LEVEL: 'debug' });
    expect(config.server.port).toBe(9090);
    expect(config.storage.path).toBe('/data/newsloom.db');
    expect(config.log.level).toBe('debug');
    expect(problems('', { NEWSLOOM_PORT: 'eighty' })[0]).toMatch(/^environment NEWSLOOM_PORT: server.port: /);
  });

  it('takes PostgreSQL from storage.url or NEWSLOOM_DATABASE_URL, with the password from a file, and says what is wrong', () => {
    const config = parseConfig('storage:\n  url: postgres://newsloom@db:5432/newsloom\n', 'c.yaml', {});
    expect(config.storage).toMatchObject({ url: 'postgres://newsloom@db:5432/newsloom', pool: 10 });
    const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-config-'));
    writeFileSync(path.join(dir, 'password'), 's3cret\n');
    // The URL from the environment replaces the SQLite file, the config's and the image's NEWSLOOM_DATA_DIR alike.
    const fromEnv = parseConfig('storage:\n  path: ./data/newsloom.db\n  pool: 4\n', 'c.yaml', {
      NEWSLOOM_DATA_DIR: '/data',
      NEWSLOOM_DATABASE_URL: 'postgresql://newsloom@db/newsloom',
      NEWSLOOM_DATABASE_PASSWORD_FILE: path.join(dir, 'password'),
    });
    expect(fromEnv.storage).toMatchObject({ url: 'postgresql://newsloom@db/newsloom', password: 's3cret', pool: 4 });
    expect(problems('storage:\n  path: ./a.db\n  url: postgres://db/newsloom\n')[0]).toMatch(/storage.url: give either path \(SQLite\) or url \(PostgreSQL\), not both/);
    expect(problems('storage:\n  url: mysql://db/newsloom\n')[0]).toMatch(/storage.url: must be a PostgreSQL URL: postgres:\/\/user@host:5432\/database/);
    expect(parseConfig('', 'c.yaml', {}).storage).toEqual({ path: './data/newsloom.db', pool: 10 });
  });

  it('says when the file cannot be read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-config-'));
    expect(() => loadConfig(path.join(dir, 'missing.yaml'), {})).toThrow(/missing.yaml: cannot read the config/);
    writeFileSync(path.join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => loadConfig(path.join(dir, 'list.yaml'), {})).toThrow(/list.yaml:1:1: the config must be a mapping/);
  });

  it('reads durations and sizes the way people write them', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('15')).toBeUndefined();
    expect(parseSize('10MiB')).toBe(10_485_760);
    expect(parseSize('512 KB')).toBe(512_000);
    expect(parseSize('ten')).toBeUndefined();
  });
});
