// Builds a validated config for tests from YAML text, with its database in a fresh temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

export interface TestConfig {
  config: Config;
  dir: string;
  cleanup(): void;
}

export function testConfig(yaml: string): TestConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-test-'));
  const config = parseConfig(yaml, 'test.yaml', {});
  config.storage.path = path.join(dir, 'newsloom.db');
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  // Every test server is one host: the politeness gap between requests to it would only slow tests down.
  config.fetch.host_gap = 0;
  return { config, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
