// The shape of config/newsloom.yaml, validated at load; every default lives here.
import { isIP } from 'node:net';
import cron from 'node-cron';
import { z } from 'zod';
import { TOPIC_FIELDS } from '../item.ts';
import { parseTerm, TermError, topicRef } from '../pipeline/rules.ts';
import { isTimeZone } from '../sources/dates.ts';
import { selectorProblem } from '../sources/html.ts';
import { cronProblem } from '../scheduler/schedule.ts';
import { languageProblem } from './language.ts';
import { formatDuration, parseDuration, parseSize } from './units.ts';

const ID = /^[a-z0-9][a-z0-9_-]*$/;
/** The SQLite database when the config names no storage. */
const DEFAULT_DATABASE = './data/newsloom.db';
const id = z.string().regex(ID, 'must be lowercase letters, digits, "-" or "_" (it appears in URLs)');

/** A duration in milliseconds, written like "30s" or as a number of seconds; zero only where it means "none". */
const durationOf = (zero: 'zero allowed' | 'positive') =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1_000 : parseDuration(value);
    if (ms === undefined || ms < 0 || (ms === 0 && zero === 'positive')) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (write it like 30s, 15m, 1h30m or 2d)` });
      return z.NEVER;
    }
    return ms;
  });
const duration = durationOf('positive');

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (write it like 512KiB or 10MiB)` });
    return z.NEVER;
  }
  return bytes;
});

/**
 * A schedule is a fixed interval ("15m"), a cron expression ("0 * * * *", in the source's time zone), or "auto":
 * chosen from how often the source publishes.
 */
export type Every = { kind: 'interval'; ms: number } | { kind: 'cron'; expression: string; timeZone: string } | { kind: 'auto' };

const every = z.string().transform((value, ctx): Every => {
  const text = value.trim();
  if (text === 'auto') return { kind: 'auto' };
  const ms = parseDuration(text);
  if (ms !== undefined && ms > 0) return { kind: 'interval', ms };
  if (text.split(/\s+/).length < 5) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is neither an interval (15m, 1h), a cron expression ("*/20 * * * *") nor "auto"` });
    return z.NEVER;
  }
  const problem = cronProblem(text);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: `"${value}": ${problem}` });
    return z.NEVER;
  }
  // The time zone is the source's own, set once the source is read (see `source` below).
  return { kind: 'cron', expression: text, timeZone: 'UTC' };
});

// RFC 9110 field names are tokens; values may not hold line breaks or other control characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;

const headers = z
  .record(z.string(), z.string())
  .default({})
  .superRefine((values, ctx) => {
    for (const [name, value] of Object.entries(values)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not an HTTP header name (letters, digits and -, no spaces or colons)` });
      else if (!HEADER_VALUE.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: 'a header value may not contain line breaks or other control characters' });
    }
  });

const language = z.string().superRefine((value, ctx) => {
  const problem = languageProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A CSS selector cheerio can use; `what` names it in the message when it is missing or empty. */
const cssSelector = (what: string) =>
  z
    .string({ error: `needs ${what}` })
    .min(1, `needs ${what}`)
    .superRefine((value, ctx) => {
      const problem = selectorProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `"${value}" is not a CSS selector: ${problem}` });
    });

/** Where a field of a scraped item is: the text (or HTML) of an element, or one of its attributes. */
export interface FieldSelector {
  /** A CSS selector inside the item; empty for the item element itself. */
  selector: string;
  attr?: string | undefined;
}

// "h3 a" reads the element, "a@href" its attribute, "@href" the item's own attribute; or { selector, attr }.
const fieldSelector = z.union([
  z.string().transform((value): FieldSelector => {
    const at = /^(.*?)@([\w:-]+)$/.exec(value.trim());
    return at ? { selector: at[1]!.trim(), attr: at[2]! } : { selector: value.trim() };
  }),
  z.strictObject({ selector: z.string().default(''), attr: z.string().min(1).optional() }),
]).superRefine((field, ctx) => {
  const problem = field.selector ? selectorProblem(field.selector) : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: `"${field.selector}" is not a CSS selector: ${problem}` });
});

const htmlSource = z.strictObject({
  item: cssSelector('the CSS selector of one item on the list page (e.g. ".news-list .news-item")'),
  title: fieldSelector.default({ selector: 'a' }),
  link: fieldSelector.default({ selector: 'a', attr: 'href' }),
  date: fieldSelector.optional(),
  summary: fieldSelector.optional(),
  image: fieldSelector.optional(),
});

// A field of a JSON item: a path ("title", "category.name", "images.0.url") or a template of paths
// ("https://rusislworld.ru/articles/{slug}"); a brace left open would end up in every link as %7B.
const jsonField = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const rest = value.replace(/\{[^{}]*[^{}\s][^{}]*\}/g, '');
    if (/[{}]/.test(rest)) ctx.addIssue({ code: 'custom', message: `"${value}" is not a template: every {path} needs both braces and a path between them (e.g. "https://site/articles/{slug}")` });
  });

const jsonSource = z
  .strictObject({
    items: z.string({ error: 'the path to the list of items (e.g. "results"; "" when the response is the list)' }),
    next: z.string().min(1).optional(),
    pages: z.number().int().min(1).max(20).default(1),
    fields: z.strictObject({
      guid: jsonField.optional(),
      title: jsonField,
      link: jsonField,
      summary: jsonField.optional(),
      content: jsonField.optional(),
      date: jsonField.optional(),
      updated: jsonField.optional(),
      author: jsonField.optional(),
      image: jsonField.optional(),
      categories: jsonField.optional(),
    }),
    detail: z.strictObject({ url: jsonField, content: jsonField }).optional(),
  })
  .superRefine((json, ctx) => {
    if (json.pages > 1 && !json.next) ctx.addIssue({ code: 'custom', path: ['next'], message: 'reading more than one page needs the path to the next page\'s URL (e.g. "next")' });
  });

const fullText = z.strictObject({
  selector: cssSelector('the CSS selector of the article body on its page (e.g. ".article-body")'),
  remove: z.array(cssSelector('a CSS selector of what to remove from the article (e.g. ".share")')).default([]),
});

const timeZone = z.string().refine(isTimeZone, { error: (issue) => `"${String(issue.input)}" is not an IANA time zone (e.g. UTC, Europe/Moscow)` });

/** HTTP basic authentication for a source; either field may come from NEWSLOOM_SOURCE_<ID>_USERNAME / _PASSWORD (or their _FILE). */
const auth = z.strictObject({
  username: z.string({ error: 'missing: write it here or set NEWSLOOM_SOURCE_<ID>_USERNAME (or _USERNAME_FILE)' }).min(1),
  password: z.string({ error: 'missing: write it here or set NEWSLOOM_SOURCE_<ID>_PASSWORD (or _PASSWORD_FILE)' }).min(1),
});

/** A bearer token, or basic-auth credentials, that /metrics and /status ask for. */
const opsAuth = z
  .strictObject({
    token: z.string().min(16, 'a token needs at least 16 characters').optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  })
  .superRefine((auth, ctx) => {
    const basic = auth.username !== undefined || auth.password !== undefined;
    if (auth.token !== undefined && basic) ctx.addIssue({ code: 'custom', message: 'either a token or a username and password, not both' });
    else if (auth.token === undefined && (auth.username === undefined || auth.password === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs a token (NEWSLOOM_OPS_TOKEN), or a username and a password (NEWSLOOM_OPS_USERNAME, NEWSLOOM_OPS_PASSWORD)' });
    }
  });

const source = z.strictObject({
  id,
  title: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  kind: z.enum(['feed', 'html', 'json']).default('feed'),
  every: every.default({ kind: 'interval', ms: 15 * 60_000 }),
  language: language.optional(),
  enabled: z.boolean().default(true),
  user_agent: z.string().min(1).optional(),
  headers,
  /** The time zone of dates the source prints without an offset. */
  timezone: timeZone.default('UTC'),
  html: htmlSource.optional(),
  json: jsonSource.optional(),
  /** Fetch each new item's page and take its body from there. */
  full_text: fullText.optional(),
  auth: auth.optional(),
}).superRefine((src, ctx) => {
  for (const kind of ['html', 'json'] as const) {
    if (src.kind === kind && !src[kind]) ctx.addIssue({ code: 'custom', path: [kind], message: `a source of kind ${kind} needs "${kind}:" (${kind === 'html' ? 'at least the item selector' : 'at least items: and fields:'})` });
    if (src.kind !== kind && src[kind]) ctx.addIssue({ code: 'custom', path: [kind], message: `"${kind}:" is only for sources of kind ${kind} (this one is ${src.kind})` });
  }
  if (src.json?.detail && src.full_text) ctx.addIssue({ code: 'custom', path: ['full_text'], message: 'the body comes either from json.detail or from full_text, not both' });
}).transform((src) => (src.every.kind === 'cron' ? { ...src, every: { ...src.every, timeZone: src.timezone } } : src));

/** A topic term; its syntax (phrases, =exact, prefix*, /regex/, topic:id) is checked here, at load. */
const term = z.string().superRefine((value, ctx) => {
  try {
    parseTerm(value);
  } catch (err) {
    if (!(err instanceof TermError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

const topic = z
  .strictObject({
    id,
    title: z.string().min(1).optional(),
    description: z.string().optional(),
    /** At least one of these terms. */
    any: z.array(term).default([]),
    /** At least one term of every group; a single term is a group of one. */
    all: z.array(z.union([term, z.array(term).min(1, 'an empty group can never match')])).default([]),
    /** None of these terms. */
    not: z.array(term).default([]),
    /** The fields the terms are searched in. */
    fields: z.array(z.enum(TOPIC_FIELDS)).min(1).default([...TOPIC_FIELDS]),
    /** Only items from these sources; empty = every source. */
    sources: z.array(id).default([]),
    /** Only items in these languages (en matches en-US too); empty = every item. */
    languages: z.array(language).default([]),
  })
  .refine((t) => t.any.length > 0 || t.all.length > 0, { message: 'a topic needs at least one term in "any" or "all"' });

/** An output's topics: a list means any of them; a mapping can ask for all of some and none of others. */
const topicFilter = z.union([
  z.array(id),
  z.strictObject({ any: z.array(id).default([]), all: z.array(id).default([]), not: z.array(id).default([]) }),
]);

const output = z.strictObject({
  id,
  title: z.string().min(1),
  description: z.string().optional(),
  topics: topicFilter.default([]),
  sources: z.array(id).default([]),
  limit: z.number().int().min(1).max(500).default(50),
  // One entry per story (its first-published report, the others linked from it) unless this is true.
  every_item: z.boolean().default(false),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z
          .string()
          .refine(isHost, { error: (issue) => `"${String(issue.input)}" is neither an IP address nor a host name (0.0.0.0 listens on every IPv4 address, :: on every address)` })
          .default('0.0.0.0'),
        port: z.number().int().min(0).max(65_535).default(8080),
        base_url: z.url().optional(),
        /** Behind a reverse proxy: links use the X-Forwarded-Proto, -Host and -Prefix it sends (only where base_url is not set). */
        trust_proxy: z.boolean().default(false),
        /** Credentials for /metrics and /status; NEWSLOOM_OPS_TOKEN, _USERNAME, _PASSWORD (or their _FILE) set them. */
        ops_auth: opsAuth.optional(),
        /** How long feed readers and proxies may keep a feed (Cache-Control: max-age). */
        cache_max_age: duration.default(60_000),
        /** Bytes of rendered responses the server keeps (compressed copies included); the least recently used go first. */
        cache_size: size.default(64 * 1024 * 1024),
      })
      .prefault({}),
    storage: z
      .strictObject({
        /** The SQLite database file: the default engine. */
        path: z.string().min(1).optional(),
        /** A PostgreSQL database instead (postgres://user@host:5432/newsloom); NEWSLOOM_DATABASE_URL sets it. */
        url: z
          .string()
          .refine((value) => /^postgres(ql)?:\/\/[^/]/.test(value), { error: 'must be a PostgreSQL URL: postgres://user@host:5432/database' })
          .optional(),
        /** The PostgreSQL password, when the url has none; NEWSLOOM_DATABASE_PASSWORD or its _FILE sets it. */
        password: z.string().optional(),
        /** Connections to PostgreSQL this process keeps at most. */
        pool: z.number().int().min(1).max(200).default(10),
      })
      .prefault({})
      .superRefine((storage, ctx) => {
        if (storage.path !== undefined && storage.url !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either path (SQLite) or url (PostgreSQL), not both' });
        }
      })
      .transform(({ path, ...rest }) => ({ ...rest, path: path ?? DEFAULT_DATABASE })),
    log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') }).prefault({}),
    fetch: z
      .strictObject({
        timeout: duration.default(30_000),
        connect_timeout: duration.default(10_000),
        max_bytes: size.default(10 * 1024 * 1024),
        max_redirects: z.number().int().min(0).max(20).default(5),
        concurrency: z.number().int().min(1).max(256).default(16),
        per_host: z.number().int().min(1).max(64).default(2),
        host_gap: durationOf('zero allowed').default(500),
        user_agent: z.string().min(1).default('newsloom/0.1 (+https://github.com/newsloom/newsloom)'),
        auto_min: duration.default(5 * 60_000),
        auto_max: duration.default(12 * 3_600_000),
        // The floor of every schedule: polling faster only gets a client banned. Lower it only against servers of your own (tests, drills).
        min_interval: duration.default(60_000),
      })
      .prefault({})
      .superRefine((fetch, ctx) => {
        if (fetch.auto_max < fetch.auto_min) ctx.addIssue({ code: 'custom', path: ['auto_max'], message: 'auto_max must not be shorter than auto_min' });
        if (fetch.auto_min < fetch.min_interval) ctx.addIssue({ code: 'custom', path: ['auto_min'], message: tooOften(fetch.min_interval) });
      }),
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
          .superRefine((value, ctx) => {
            // The housekeeping task runs on node-cron, which must read the expression too.
            const problem = value.trim().split(/\s+/).length >= 5 ? (cronProblem(value.trim()) ?? (cron.validate(value) ? undefined : 'is not a cron expression')) : 'is not a cron expression (e.g. "17 4 * * *")';
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
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
    checkTopicRules(config.topics, sources, ctx);
    checkFloor(config.sources, config.fetch.min_interval, ctx);
    config.outputs.forEach((out, index) => {
      const filter = out.topics;
      const lists: { path: string[]; ids: string[] }[] = Array.isArray(filter)
        ? [{ path: [], ids: filter }]
        : (['any', 'all', 'not'] as const).map((k) => ({ path: [k], ids: filter[k] }));
      for (const list of lists) {
        list.ids.forEach((t, i) => {
          if (!topics.has(t)) ctx.addIssue({ code: 'custom', path: ['outputs', index, 'topics', ...list.path, i], message: `unknown topic "${t}"` });
        });
      }
      out.sources.forEach((s, i) => {
        if (!sources.has(s)) ctx.addIssue({ code: 'custom', path: ['outputs', index, 'sources', i], message: `unknown source "${s}"` });
      });
    });
  });

/** No source is scheduled more often than fetch.min_interval. */
function checkFloor(sources: SourceConfig[], floorMs: number, ctx: z.RefinementCtx): void {
  sources.forEach((src, index) => {
    const { every } = src;
    // Only a seconds field (the first of six) can fire a cron expression twice within a minute.
    const fields = every.kind === 'cron' ? every.expression.split(/\s+/) : [];
    const subMinute = fields.length >= 6 && !/^\d+$/.test(fields[0]!);
    const tooFast = every.kind === 'interval' ? every.ms < floorMs : subMinute && floorMs >= 60_000;
    if (!tooFast) return;
    const what = every.kind === 'interval' ? `every ${formatDuration(every.ms)} is too often` : 'fires more than once a minute';
    ctx.addIssue({ code: 'custom', path: ['sources', index, 'every'], message: `${what}: ${tooOften(floorMs)}` });
  });
}

function tooOften(floorMs: number): string {
  return `a source is polled at most once every ${formatDuration(floorMs)} (fetch.min_interval)`;
}

/** An address to listen on: an IP literal, or a name without the shape of a broken one (999.1.1.1). */
function isHost(host: string): boolean {
  if (isIP(host)) return true;
  return !/^[\d.]+$/.test(host) && /^[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*\.?$/i.test(host);
}

/** Topic references name known topics and never loop; topic source limits name known sources. */
function checkTopicRules(topics: TopicConfig[], sources: Set<string>, ctx: z.RefinementCtx): void {
  const refs = new Map(topics.map((t) => [t.id, topicRefs(t)]));
  topics.forEach((t, index) => {
    for (const ref of refs.get(t.id)!) {
      if (!refs.has(ref.topic)) ctx.addIssue({ code: 'custom', path: ['topics', index, ...ref.path], message: `unknown topic "${ref.topic}"` });
    }
    t.sources.forEach((s, i) => {
      if (!sources.has(s)) ctx.addIssue({ code: 'custom', path: ['topics', index, 'sources', i], message: `unknown source "${s}"` });
    });
    const cycle = findCycle(t.id, refs);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['topics', index, 'id'], message: `topic references loop: ${cycle.join(' → ')}` });
  });
}

/** The `topic:id` terms of a topic, with where each one is written. */
export function topicRefs(t: TopicConfig): { topic: string; path: (string | number)[] }[] {
  const terms: { source: string; path: (string | number)[] }[] = [
    ...t.any.map((source, i) => ({ source, path: ['any', i] })),
    ...t.all.flatMap((group, g) => (Array.isArray(group) ? group.map((source, i) => ({ source, path: ['all', g, i] })) : [{ source: group, path: ['all', g] }])),
    ...t.not.map((source, i) => ({ source, path: ['not', i] })),
  ];
  return terms.flatMap(({ source, path }) => {
    const topic = topicRef(source);
    return topic ? [{ topic, path }] : [];
  });
}

function findCycle(start: string, refs: Map<string, { topic: string }[]>): string[] | undefined {
  const walk = (id: string, trail: string[]): string[] | undefined => {
    for (const { topic } of refs.get(id) ?? []) {
      if (topic === start) return [...trail, topic];
      if (!trail.includes(topic)) {
        const found = walk(topic, [...trail, topic]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(start, [start]);
}

export type Config = z.output<typeof configSchema>;
export type SourceConfig = Config['sources'][number];
export type HtmlSpec = z.output<typeof htmlSource>;
export type JsonSpec = z.output<typeof jsonSource>;
export type FullTextSpec = z.output<typeof fullText>;
export type TopicConfig = Config['topics'][number];
export type OutputConfig = Config['outputs'][number];
