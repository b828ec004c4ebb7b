// Dates as sites print them — ISO 8601, RFC 2822, "10.01.2022 14:05", "10 января 2022 г.", "January 10, 2022",
// "вчера, 14:05" — read in the source's time zone unless the text names its own offset.

export interface DateContext {
  /** An IANA time zone ("Europe/Moscow") for dates printed without an offset. */
  timeZone: string;
  /** Epoch ms: "today", "yesterday" and dates without a year are relative to it. */
  now: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[t\s](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/;

// A letter in either alphabet; JavaScript's \b only knows ASCII word characters.
const NOT_LETTER = '(?![a-zа-яё])';
const ZONE = `(z|(?:gmt|utc|ut)(?:[+-]\\d{1,2}(?::?\\d{2})?)?|[+-]\\d{2}:?\\d{2}|msk|мск|[ecmp][sd]t)${NOT_LETTER}`;
const TIME = new RegExp(`(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?:[.,]\\d+)?\\s*(am|pm)?(?:\\s*${ZONE})?`);
const AGO = /(\d+)\s*(мин|minutes?|mins?|час|hours?|hrs?|д(?:ень|ня|ней)|days?)[a-zа-яё]*\.?\s+(?:назад|ago)/;
const RELATIVE_DAY = new RegExp(`(позавчера|вчера|сегодня|yesterday|today)${NOT_LETTER}`);
const DMY = /(?<!\d)(\d{1,2})[.-](\d{1,2})[.-](\d{4}|\d{2})(?!\d)/;
const YMD = /(?<!\d)(\d{4})[./](\d{1,2})[./](\d{1,2})(?!\d)/;
const DAY_MONTH = /(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-zа-яё]{3,})\.?(?:,?\s+(\d{4}))?/g;
const MONTH_DAY = /([a-z]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?!\d)(?:,?\s+(\d{4}))?/g;

const ENGLISH_MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const RUSSIAN_STEMS = ['янв', 'фев', 'мар', 'апр', 'ма', 'июн', 'июл', 'авг', 'сен', 'окт', 'ноя', 'дек'];

const DAY_MS = 86_400_000;
const ZONE_OFFSETS: Record<string, number> = { z: 0, gmt: 0, utc: 0, ut: 0, msk: 180, мск: 180, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Epoch ms of a date as a site printed it, or null when the text is not a date we can read. */
export function parseSourceDate(text: string, ctx: DateContext): number | null {
  const value = text.trim().toLowerCase();
  if (!value) return null;
  const iso = ISO.exec(value);
  if (iso) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = iso;
    const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
    return toEpoch({ year: +y!, month: +mo!, day: +d!, hour: +h, minute: +mi, second: +s }, zone === undefined ? undefined : zoneOffset(zone), ctx.timeZone, ms);
  }
  return parseHuman(value, ctx);
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

function parseHuman(value: string, ctx: DateContext): number | null {
  const ago = AGO.exec(value);
  if (ago) {
    const unit = ago[2]!;
    const size = /^(мин|min)/.test(unit) ? 60_000 : /^(час|hour|hr)/.test(unit) ? 3_600_000 : DAY_MS;
    return ctx.now - Number(ago[1]) * size;
  }
  let rest = value;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let offset: number | undefined;
  const time = TIME.exec(rest);
  if (time) {
    const [whole, h, mi, s = '0', meridiem, zone] = time;
    hour = Number(h) % (meridiem ? 12 : 24) + (meridiem === 'pm' ? 12 : 0);
    if (Number(h) > (meridiem ? 12 : 23)) return null;
    minute = Number(mi);
    second = Number(s);
    if (zone) offset = zoneOffset(zone);
    rest = rest.replace(whole, ' ');
  }
  // Only a time ("14:05", "в 14:05"): sites print that for today's news.
  const date = findDate(rest, ctx) ?? (time && /^[\s,.|—-]*(?:в|at)?[\s,.|—-]*$/.test(rest) ? daysBefore(0, ctx) : undefined);
  if (!date) return null;
  const wall = { ...date, hour, minute, second };
  const epoch = toEpoch(wall, offset, ctx.timeZone);
  // A date printed without its year ("10 января") is the latest such date that is not in the future.
  if (epoch !== null && date.yearGiven === false && epoch > ctx.now + DAY_MS) return toEpoch({ ...wall, year: wall.year - 1 }, offset, ctx.timeZone);
  return epoch;
}

type FoundDate = Pick<Wall, 'year' | 'month' | 'day'> & { yearGiven: boolean };

function findDate(text: string, ctx: DateContext): FoundDate | undefined {
  const relative = RELATIVE_DAY.exec(text)?.[1];
  if (relative) return daysBefore({ позавчера: 2, вчера: 1, yesterday: 1 }[relative] ?? 0, ctx);
  const thisYear = wallClock(ctx.now, ctx.timeZone).year;
  const ymd = YMD.exec(text);
  if (ymd) return { year: +ymd[1]!, month: +ymd[2]!, day: +ymd[3]!, yearGiven: true };
  const dmy = DMY.exec(text);
  if (dmy) return { year: fullYear(dmy[3]!), month: +dmy[2]!, day: +dmy[1]!, yearGiven: true };
  for (const [, day, word, year] of text.matchAll(DAY_MONTH)) {
    const month = monthNumber(word!);
    if (month) return { year: year ? +year : thisYear, month, day: +day!, yearGiven: Boolean(year) };
  }
  for (const [, word, day, year] of text.matchAll(MONTH_DAY)) {
    const month = monthNumber(word!);
    if (month) return { year: year ? +year : thisYear, month, day: +day!, yearGiven: Boolean(year) };
  }
  return undefined;
}

/** The calendar day some days before today, in the source's time zone. */
function daysBefore(days: number, ctx: DateContext): FoundDate {
  const today = wallClock(ctx.now, ctx.timeZone);
  const day = new Date(Date.UTC(today.year, today.month - 1, today.day - days));
  return { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), yearGiven: true };
}

/** 1–12 for an English or Russian month name in any case form or common abbreviation, else undefined. */
function monthNumber(word: string): number | undefined {
  if (/^[a-z]+$/.test(word)) {
    const index = ENGLISH_MONTHS.findIndex((name) => name.startsWith(word) || (word === 'sept' && name === 'september'));
    return index >= 0 ? index + 1 : undefined;
  }
  // "мар…" is March; "май", "мая", "мае" are May.
  if (word.startsWith('мар')) return 3;
  if (/^ма[йяе]$/.test(word)) return 5;
  const index = RUSSIAN_STEMS.findIndex((stem) => stem !== 'ма' && word.startsWith(stem));
  return index >= 0 ? index + 1 : undefined;
}

function fullYear(year: string): number {
  return year.length === 2 ? 2000 + Number(year) : Number(year);
}

function zoneOffset(zone: string): number {
  const named = /^[a-zа-я]+$/.test(zone) ? ZONE_OFFSETS[zone] : undefined;
  if (named !== undefined) return named;
  const numeric = /([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(zone);
  if (!numeric) return 0;
  const minutes = Number(numeric[2]) * 60 + Number(numeric[3] ?? 0);
  return numeric[1] === '-' ? -minutes : minutes;
}

/** Epoch ms of a wall-clock time, at a fixed offset in minutes or else in the time zone; null for impossible dates. */
function toEpoch(wall: Wall, offsetMinutes: number | undefined, timeZone: string, ms = 0): number | null {
  const { year, month, day, hour, minute, second } = wall;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms);
  if (new Date(local).getUTCDate() !== day) return null;
  if (offsetMinutes !== undefined) return local - offsetMinutes * 60_000;
  // The zone's offset at the guessed instant, then again at the corrected one, which settles daylight-saving edges.
  const guess = local - zoneOffsetAt(local, timeZone);
  return local - zoneOffsetAt(guess, timeZone);
}

function zoneOffsetAt(epoch: number, timeZone: string): number {
  const wall = wallClock(epoch, timeZone);
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(epoch / 1000) * 1000;
}

function wallClock(epoch: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(epoch))) parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}
