// Helpers shared by benchmarks and drills: a throwaway config pointing at synthetic feeds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';

export const BENCH_TOPICS = `
topics:
  - { id: kazakhstan, title: Kazakhstan, any: [Kazakhstan, Kazakh, Astana, Tokayev, "Казахстан*", "Астан*", "Токаев*"] }
  - { id: csto, title: CSTO, any: [CSTO, ОДКБ, Collective Security Treaty Organization] }
outputs:
  - { id: both, title: Both, topics: [kazakhstan, csto] }
`;

/** The YAML of a config polling these feed URLs, with its data in a fresh temporary folder. */
export function benchConfigYaml(urls: string[], options: { dir: string; port?: number; every?: string; concurrency?: number }): string {
  return `server: { host: 127.0.0.1, port: ${options.port ?? 0} }
storage: { path: ${JSON.stringify(path.join(options.dir, 'newsloom.db'))} }
log: { level: warn }
# The drill polls its own loopback servers every second.
fetch: { concurrency: ${options.concurrency ?? 16}, min_interval: 1s }
sources:
${urls.map((url, i) => `  - { id: wire-${i}, url: "${url}", every: ${options.every ?? '1h'} }`).join('\n')}
${BENCH_TOPICS}`;
}

export function benchConfig(urls: string[], options: { every?: string; concurrency?: number } = {}): { config: Config; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-bench-'));
  const config = parseConfig(benchConfigYaml(urls, { dir, ...options }), 'bench.yaml', {});
  return { config, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
