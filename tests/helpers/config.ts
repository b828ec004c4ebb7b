// Builds a validated config for tests from YAML text, with its database in a fresh temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { StorageConfig } from '../../src/store/store.ts';

export interface TestConfig {
  config: Config;
  dir: string;
  cleanup(): void;
}

/** `storage`: the database of a test run on an engine (tests/helpers/engines.ts); a SQLite file in the folder by default. */
export function testConfig(yaml: string, storage?: StorageConfig): TestConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-test-'));
  const config = parseConfig(yaml, 'test.yaml', {});
  config.storage.path = path.join(dir, 'newsloom.db');
  if (storage?.url) config.storage = { ...config.storage, url: storage.url, pool: storage.pool ?? config.storage.pool };
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  // Every test server is one host: the politeness gap between requests to it would only slow tests down.
  config.fetch.host_gap = 0;
  // The fixtures were recorded in December 2021: unless a test is about retention, their items are not too old to keep.
  if (parseDocument(yaml).getIn(['retention', 'items']) === undefined) config.retention.items = 100 * 365 * 86_400_000;
  return { config, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
