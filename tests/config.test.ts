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
    expect(config.sources[0]!.every).toEqual({ kind: 'cron', expression: '*/20 * * * *' });
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
