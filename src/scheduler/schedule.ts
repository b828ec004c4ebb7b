// When a source is next due: its interval or cron expression after a success, exponential backoff
// with jitter after failures (capped at a day, never "disabled forever").
import cron, { type ScheduledTask } from 'node-cron';
import type { Every } from '../config/schema.ts';

export const MAX_BACKOFF_MS = 24 * 3_600_000;
const MIN_BACKOFF_MS = 60_000;

const cronTasks = new Map<string, ScheduledTask>();

/** The first time strictly after `after` that a cron expression fires (searched up to a year ahead). */
export function nextCronRun(expression: string, after: number): number {
  let task = cronTasks.get(expression);
  if (!task) {
    task = cron.createTask(expression, () => undefined);
    cronTasks.set(expression, task);
  }
  const seconds = cron.parse(expression).second;
  const minute = 60_000;
  for (let t = Math.floor(after / minute) * minute; t < after + 366 * 86_400_000; t += minute) {
    if (!task.match(new Date(t))) continue;
    for (const s of seconds) if (t + s * 1000 > after) return t + s * 1000;
  }
  return after + 366 * 86_400_000;
}

export function nextRegularPoll(every: Every, now: number): number {
  return every.kind === 'interval' ? now + every.ms : nextCronRun(every.expression, now);
}

/** After the n-th failure in a row: the regular interval doubled n-1 times, at least a minute, at most a day, ±10 %. */
export function backoffDelay(every: Every, failures: number, random = Math.random): number {
  const base = Math.max(every.kind === 'interval' ? every.ms : 15 * 60_000, MIN_BACKOFF_MS);
  const delay = Math.min(base * 2 ** Math.min(Math.max(failures - 1, 0), 20), MAX_BACKOFF_MS);
  return Math.round(delay * (0.9 + 0.2 * random()));
}
