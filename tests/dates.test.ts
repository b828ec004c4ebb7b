import { describe, expect, it } from 'vitest';
import { isTimeZone, parseSourceDate } from '../src/sources/dates.ts';

// 2026-10-08 09:30 UTC is 12:30 in Moscow.
const now = Date.UTC(2026, 9, 8, 9, 30);
const moscow = { timeZone: 'Europe/Moscow', now };
const utc = { timeZone: 'UTC', now };
const iso = (text: string, ctx = moscow) => {
  const ms = parseSourceDate(text, ctx);
  return ms === null ? null : new Date(ms).toISOString();
};

describe('reading dates as sites print them', () => {
  it('reads ISO 8601 with an offset as written and without one in the source time zone', () => {
    expect(iso('2022-01-10T14:05:00+03:00')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('2022-01-10T14:05:00.123456Z')).toBe('2022-01-10T14:05:00.123Z');
    expect(iso('2022-01-10T14:05:00')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('2022-01-10 14:05')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('2022-01-10')).toBe('2022-01-09T21:00:00.000Z');
    expect(iso('2022-01-10T14:05:00', utc)).toBe('2022-01-10T14:05:00.000Z');
  });

  it('reads RFC 2822 dates with numeric and named zones', () => {
    expect(iso('Mon, 10 Jan 2022 14:05:00 +0300')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('Mon, 10 Jan 2022 14:05:00 GMT')).toBe('2022-01-10T14:05:00.000Z');
    expect(iso('10 Jan 2022 14:05 EST')).toBe('2022-01-10T19:05:00.000Z');
    expect(iso('Mon, 10 Jan 2022 14:05:00')).toBe('2022-01-10T11:05:00.000Z');
  });

  it('reads Russian numeric and written dates in the source time zone', () => {
    expect(iso('10.01.2022 14:05')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('10.01.22')).toBe('2022-01-09T21:00:00.000Z');
    expect(iso('10 января 2022')).toBe('2022-01-09T21:00:00.000Z');
    expect(iso('10 января 2022, 14:05')).toBe('2022-01-10T11:05:00.000Z');
    expect(iso('7 октября 2026 г.')).toBe('2026-10-06T21:00:00.000Z');
    expect(iso('7 октября 2026 г. в 18:40')).toBe('2026-10-07T15:40:00.000Z');
    expect(iso('1 мая 2025')).toBe('2025-04-30T21:00:00.000Z');
    expect(iso('3 марта 2025')).toBe('2025-03-02T21:00:00.000Z');
    expect(iso('Понедельник, 10 Января 2022')).toBe('2022-01-09T21:00:00.000Z');
  });

  it('reads English written dates', () => {
    expect(iso('10 January 2022', utc)).toBe('2022-01-10T00:00:00.000Z');
    expect(iso('January 10, 2022 2:05 pm', utc)).toBe('2022-01-10T14:05:00.000Z');
    expect(iso('Sept. 3rd, 2024', utc)).toBe('2024-09-03T00:00:00.000Z');
  });

  it('reads "today" and "yesterday" with a time, relative to now in the source time zone', () => {
    expect(iso('сегодня, 11:15')).toBe('2026-10-08T08:15:00.000Z');
    expect(iso('Вчера в 23:50')).toBe('2026-10-07T20:50:00.000Z');
    expect(iso('yesterday 08:00', utc)).toBe('2026-10-07T08:00:00.000Z');
    expect(iso('11:15')).toBe('2026-10-08T08:15:00.000Z');
    expect(iso('5 минут назад')).toBe('2026-10-08T09:25:00.000Z');
    expect(iso('2 hours ago', utc)).toBe('2026-10-08T07:30:00.000Z');
  });

  it('gives a date printed without a year the latest year that does not put it in the future', () => {
    expect(iso('7 октября, 18:40')).toBe('2026-10-07T15:40:00.000Z');
    expect(iso('25 декабря')).toBe('2025-12-24T21:00:00.000Z');
  });

  it('follows daylight saving time in the source time zone', () => {
    const berlin = { timeZone: 'Europe/Berlin', now };
    expect(iso('10.01.2022 14:05', berlin)).toBe('2022-01-10T13:05:00.000Z');
    expect(iso('10.07.2022 14:05', berlin)).toBe('2022-07-10T12:05:00.000Z');
  });

  it('returns null for text that is not a date, and for impossible dates', () => {
    for (const text of ['', 'no date here', 'Updated recently', '31.02.2022', '2022-13-01', '25:10', 'Smarch 10, 2022']) {
      expect(parseSourceDate(text, moscow), text).toBeNull();
    }
  });

  it('knows IANA time zones', () => {
    expect(isTimeZone('Europe/Moscow')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
