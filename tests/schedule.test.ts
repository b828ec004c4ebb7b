import { describe, expect, it } from 'vitest';
import { autoInterval, backoffDelay, MAX_BACKOFF_MS, nextCronRun, nextPollAt } from '../src/scheduler/schedule.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const bounds = { minMs: 5 * MIN, maxMs: 12 * HOUR };
const now = Date.UTC(2026, 0, 10, 12);

describe('the adaptive schedule (every: auto)', () => {
  it('polls a busy wire often: at the lower bound', () => {
    // 100 items in the last two hours, the newest a minute ago.
    expect(autoInterval({ count: 100, oldest: now - 2 * HOUR, newest: now - MIN }, [], bounds, now)).toBe(5 * MIN);
  });

  it('polls at the average gap between items', () => {
    // 56 items over the last week, the newest ten minutes ago: one every three hours.
    expect(autoInterval({ count: 56, oldest: now - 7 * DAY, newest: now - 10 * MIN }, [], bounds, now)).toBe(3 * HOUR);
  });

  it('polls a feed that published nothing for days less, up to the upper bound', () => {
    expect(autoInterval({ count: 0, oldest: null, newest: null }, [], bounds, now)).toBe(12 * HOUR);
    expect(autoInterval({ count: 40, oldest: now - 6 * DAY, newest: now - 3 * DAY }, [], bounds, now)).toBe(12 * HOUR);
    expect(autoInterval({ count: 40, oldest: now - 6 * DAY, newest: now - 4 * HOUR }, [], bounds, now)).toBe(216 * MIN);
  });

  it('never polls more often than the feed\'s <ttl> or Cache-Control max-age ask, within the bounds', () => {
    const busy = { count: 100, oldest: now - 2 * HOUR, newest: now - MIN };
    expect(autoInterval(busy, [30 * MIN, null], bounds, now)).toBe(30 * MIN);
    expect(autoInterval(busy, [null, 2 * HOUR], bounds, now)).toBe(2 * HOUR);
    expect(autoInterval(busy, [30 * DAY], bounds, now)).toBe(12 * HOUR);
  });
});

describe('backoff after failures', () => {
  const every = { kind: 'interval' as const, ms: 10 * MIN };
  const middle = () => 0.5;

  it('doubles the interval per failure in a row, with jitter, capped at a day', () => {
    expect(backoffDelay(10 * MIN, 1, middle)).toBe(10 * MIN);
    expect(backoffDelay(10 * MIN, 3, middle)).toBe(40 * MIN);
    expect(backoffDelay(10 * MIN, 50, middle)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(10 * MIN, 3, () => 0)).toBe(36 * MIN);
    expect(backoffDelay(10 * MIN, 3, () => 1)).toBe(44 * MIN);
  });

  it('keeps polling a source that fails for ever, at most a day apart', () => {
    expect(nextPollAt(every, { ok: false, failures: 1000 }, 0, now, () => 1) - now).toBeLessThanOrEqual(1.1 * DAY);
  });

  it('never comes back before the site\'s Retry-After', () => {
    expect(nextPollAt(every, { ok: false, failures: 1, retryAt: now + 3 * HOUR }, 0, now, middle)).toBe(now + 3 * HOUR);
    expect(nextPollAt(every, { ok: false, failures: 1, retryAt: now + MIN }, 0, now, middle)).toBe(now + 10 * MIN);
  });

  it('returns to the regular interval, or the adaptive one, after a success', () => {
    expect(nextPollAt(every, { ok: true, failures: 0 }, 0, now)).toBe(now + 10 * MIN);
    expect(nextPollAt({ kind: 'auto' }, { ok: true, failures: 0 }, 42 * MIN, now)).toBe(now + 42 * MIN);
    expect(nextPollAt({ kind: 'cron', expression: '0 * * * *', timeZone: 'UTC' }, { ok: true, failures: 0 }, 15 * MIN, now)).toBe(now + HOUR);
  });
});

describe('cron schedules', () => {
  const at = (iso: string) => Date.parse(iso);
  const iso = (ms: number) => new Date(ms).toISOString();

  it('finds the next run of a yearly, monthly or leap-day expression, a time the expression fires', () => {
    const from = at('2026-03-01T10:00:00Z');
    expect(iso(nextCronRun('0 0 1 1 *', from))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(nextCronRun('0 0 1 * *', from))).toBe('2026-04-01T00:00:00.000Z');
    // The next 29 February, not the first day the search gave up on.
    expect(iso(nextCronRun('0 0 29 2 *', from))).toBe('2028-02-29T00:00:00.000Z');
  });

  it("fires in the source's time zone", () => {
    // 06:00 in Moscow (UTC+3) is 03:00 UTC; in New York (UTC-5 in January) 11:00 UTC.
    expect(iso(nextCronRun('0 6 * * *', at('2026-01-10T00:00:00Z'), 'Europe/Moscow'))).toBe('2026-01-10T03:00:00.000Z');
    expect(iso(nextCronRun('0 6 * * *', at('2026-01-10T00:00:00Z'), 'America/New_York'))).toBe('2026-01-10T11:00:00.000Z');
    expect(nextPollAt({ kind: 'cron', expression: '0 6 * * *', timeZone: 'Europe/Moscow' }, { ok: true, failures: 0 }, 0, at('2026-01-10T04:00:00Z'))).toBe(at('2026-01-11T03:00:00Z'));
  });

  it('answers strictly after the given time, to the second', () => {
    expect(iso(nextCronRun('*/20 * * * *', at('2026-01-10T12:20:00Z')))).toBe('2026-01-10T12:40:00.000Z');
    expect(iso(nextCronRun('30 */5 * * * *', at('2026-01-10T12:00:29.500Z')))).toBe('2026-01-10T12:00:30.000Z');
  });
});
