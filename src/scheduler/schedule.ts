// When a source is next due: its interval, cron expression or adaptive interval after a success,
// exponential backoff with jitter after failures (capped at a day, never "disabled forever").
import { Cron } from 'croner';
import type { Every } from '../config/schema.ts';

export const MAX_BACKOFF_MS = 24 * 3_600_000;
const MIN_BACKOFF_MS = 60_000;

// Croner computes the next run from any instant in a fraction of a millisecond (BENCHMARKS.md, issue 21);
// one parsed pattern per expression and time zone.
const patterns = new Map<string, Cron>();

function pattern(expression: string, timeZone: string): Cron {
  const key = `${timeZone} ${expression}`;
  let cron = patterns.get(key);
  if (!cron) {
    cron = new Cron(expression, { timezone: timeZone, paused: true });
    patterns.set(key, cron);
  }
  return cron;
}

/** The first time strictly after `after` that a cron expression fires in a time zone. */
export function nextCronRun(expression: string, after: number, timeZone = 'UTC'): number {
  // cronProblem rejected expressions that never fire; a day later is a harmless answer should one slip through.
  return pattern(expression, timeZone).nextRun(new Date(after))?.getTime() ?? after + 86_400_000;
}

/** Why a cron expression cannot be a schedule (a field out of range, no date it fires on), or undefined. */
export function cronProblem(expression: string): string | undefined {
  let cron: Cron;
  try {
    cron = pattern(expression, 'UTC');
  } catch (err) {
    return `is not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
  return cron.nextRun(new Date(Date.UTC(2000, 0, 1))) ? undefined : 'never fires (no date matches it)';
}

/** Items a source published lately (the last week), as the scheduler sees them in the store. */
export interface Activity {
  count: number;
  oldest: number | null;
  newest: number | null;
}

export interface AutoBounds {
  minMs: number;
  maxMs: number;
}

export const ACTIVITY_WINDOW_MS = 7 * 86_400_000;
const HOUR = 3_600_000;

/**
 * The interval of an `every: auto` source, in the spirit of Miniflux's entry-frequency scheduler: the
 * average gap between its items of the last week, lengthened by a silence since its newest item (a feed
 * quiet for days is polled less), never shorter than what the site asked for (its <ttl>,
 * Cache-Control max-age), and clamped between the configured bounds.
 */
export function autoInterval(activity: Activity, hintsMs: (number | null | undefined)[], bounds: AutoBounds, now: number): number {
  let interval = bounds.maxMs;
  if (activity.count > 0 && activity.oldest !== null && activity.newest !== null) {
    const averageGap = Math.max(now - activity.oldest, HOUR) / activity.count;
    interval = Math.max(averageGap, (now - activity.newest) / 2);
  }
  for (const hint of hintsMs) if (hint) interval = Math.max(interval, hint);
  return Math.round(Math.min(Math.max(interval, bounds.minMs), bounds.maxMs));
}

/** How the last poll went, as far as the schedule is concerned. */
export interface Outcome {
  ok: boolean;
  /** Failures in a row, this one included. */
  failures: number;
  /** The site's Retry-After, epoch ms. */
  retryAt?: number | undefined;
}

/**
 * When to poll next. `intervalMs` is the source's interval when it is not a fixed one (auto) and the
 * base of backoff for cron schedules. After a failure: exponential backoff, but never before Retry-After.
 */
export function nextPollAt(every: Every, outcome: Outcome, intervalMs: number, now: number, random = Math.random): number {
  const base = every.kind === 'interval' ? every.ms : intervalMs;
  if (!outcome.ok) return Math.max(now + backoffDelay(base, outcome.failures, random), outcome.retryAt ?? 0);
  if (every.kind === 'cron') return nextCronRun(every.expression, now, every.timeZone);
  return now + base;
}

/** After the n-th failure in a row: the regular interval doubled n-1 times, at least a minute, at most a day, ±10 %. */
export function backoffDelay(intervalMs: number, failures: number, random = Math.random): number {
  const base = Math.max(intervalMs, MIN_BACKOFF_MS);
  const delay = Math.min(base * 2 ** Math.min(Math.max(failures - 1, 0), 20), MAX_BACKOFF_MS);
  return Math.round(delay * (0.9 + 0.2 * random()));
}
