// The shape of config/newsloom.yaml, validated at load; every default lives here.
import cron from 'node-cron';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';

const ID = /^[a-z0-9][a-z0-9_-]*$/;
const id = z.string().regex(ID, 'must be lowercase letters, digits, "-" or "_" (it appears in URLs)');

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value * 1_000 : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (write it like 30s, 15m, 1h30m or 2d)` });
    return z.NEVER;
  }
  return ms;
});

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (write it like 512KiB or 10MiB)` });
    return z.NEVER;
  }
  return bytes;
});

/** A schedule is either a fixed interval ("15m") or a cron expression ("0 * * * *"). */
export type Every = { kind: 'interval'; ms: number } | { kind: 'cron'; expression: string };

const every = z.string().transform((value, ctx): Every => {
  const ms = parseDuration(value);
  if (ms !== undefined && ms > 0) return { kind: 'interval', ms };
  if (value.trim().split(/\s+/).length >= 5 && cron.validate(value)) return { kind: 'cron', expression: value.trim() };
  ctx.addIssue({ code: 'custom', message: `"${value}" is neither an interval (15m, 1h) nor a cron expression ("*/20 * * * *")` });
  return z.NEVER;
});

const headers = z.record(z.string(), z.string()).default({});

const source = z.strictObject({
  id,
  title: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  kind: z.enum(['feed', 'html', 'json']).default('feed'),
  every: every.default({ kind: 'interval', ms: 15 * 60_000 }),
  language: z.string().min(2).optional(),
  enabled: z.boolean().default(true),
  user_agent: z.string().min(1).optional(),
  headers,
});

const topic = z.strictObject({
  id,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  any: z.array(z.string().min(1)).min(1, 'a topic needs at least one term'),
});

const output = z.strictObject({
  id,
  title: z.string().min(1),
  description: z.string().optional(),
  topics: z.array(id).default([]),
  sources: z.array(id).default([]),
  limit: z.number().int().min(1).max(500).default(50),
  // One entry per story (its first-published report, the others linked from it) unless this is true.
  every_item: z.boolean().default(false),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65_535).default(8080),
        base_url: z.url().optional(),
      })
      .prefault({}),
    storage: z.strictObject({ path: z.string().min(1).default('./data/newsloom.db') }).prefault({}),
    log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).prefault({}),
    fetch: z
      .strictObject({
        timeout: duration.default(30_000),
        max_bytes: size.default(10 * 1024 * 1024),
        max_redirects: z.number().int().min(0).max(20).default(5),
        concurrency: z.number().int().min(1).max(256).default(8),
        user_agent: z.string().min(1).default('newsloom/0.1 (+https://github.com/newsloom/newsloom)'),
      })
      .prefault({}),
    dedup: z
      .strictObject({
        // Reports of one story are looked for among items published this long before or after.
        window: duration.default(3 * 86_400_000),
        // Share of the shorter report's content words the other must contain: on tests/fixtures/story-pairs.yaml
        // different stories reach 0.43 and reports of one story start at 0.53 (see README, "Stories").
        threshold: z.number().gt(0).max(1).default(0.48),
      })
      .prefault({}),
    retention: z
      .strictObject({
        // Items published longer ago than this are deleted by the daily housekeeping.
        items: duration.default(90 * 86_400_000),
        // A deleted item's identity is kept this long after it was deleted or last listed by its source, so that it
        // never returns as new.
        fingerprints: duration.default(365 * 86_400_000),
        // When the housekeeping runs (cron, local time): prune, PRAGMA optimize, WAL checkpoint.
        schedule: z
          .string()
          .refine((value) => value.trim().split(/\s+/).length >= 5 && cron.validate(value), { message: 'is not a cron expression (e.g. "17 4 * * *")' })
          .default('17 4 * * *'),
      })
      .prefault({}),
    sources: z.array(source).default([]),
    topics: z.array(topic).default([]),
    outputs: z.array(output).default([]),
  })
  .superRefine((config, ctx) => {
    for (const key of ['sources', 'topics', 'outputs'] as const) {
      const seen = new Set<string>();
      config[key].forEach((entry, index) => {
        if (seen.has(entry.id)) ctx.addIssue({ code: 'custom', path: [key, index, 'id'], message: `duplicate id "${entry.id}"` });
        seen.add(entry.id);
      });
    }
    const topics = new Set(config.topics.map((t) => t.id));
    const sources = new Set(config.sources.map((s) => s.id));
    config.outputs.forEach((out, index) => {
      out.topics.forEach((t, i) => {
        if (!topics.has(t)) ctx.addIssue({ code: 'custom', path: ['outputs', index, 'topics', i], message: `unknown topic "${t}"` });
      });
      out.sources.forEach((s, i) => {
        if (!sources.has(s)) ctx.addIssue({ code: 'custom', path: ['outputs', index, 'sources', i], message: `unknown source "${s}"` });
      });
    });
  });

export type Config = z.output<typeof configSchema>;
export type SourceConfig = Config['sources'][number];
export type TopicConfig = Config['topics'][number];
export type OutputConfig = Config['outputs'][number];
