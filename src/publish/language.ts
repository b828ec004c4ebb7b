// The words newsloom itself adds to what it publishes, in English and Russian: an entry's words follow the
// entry's language, a page's chrome follows the reader's Accept-Language.

export type Lang = 'en' | 'ru';

export const LANGS: Lang[] = ['en', 'ru'];

/** The reader's preferred language among ours, from an Accept-Language header (RFC 9110 12.5.4); English by default. */
export function chooseLang(header: string | undefined): Lang {
  let best: Lang = 'en';
  let bestQ = 0;
  for (const part of (header ?? '').split(',')) {
    const [range, ...options] = part.trim().toLowerCase().split(';');
    const q = Number(options.map((o) => /^\s*q=([0-9.]+)\s*$/.exec(o)?.[1]).find(Boolean) ?? 1);
    const lang = LANGS.find((l) => range === l || range!.startsWith(`${l}-`));
    if (lang && q > bestQ) [best, bestQ] = [lang, q];
  }
  return best;
}

/**
 * The language of an entry's own words: its stored language (the source's), else what its letters say. Only our
 * own words need it, so anything not Russian reads English ones.
 */
export function entryLang(language: string | null, text: string): Lang {
  if (language) return language.toLowerCase().startsWith('ru') ? 'ru' : 'en';
  const cyrillic = text.match(/[\u0400-\u04ff]/g)?.length ?? 0;
  const latin = text.match(/[a-z]/gi)?.length ?? 0;
  return cyrillic > latin ? 'ru' : 'en';
}

/** The words newsloom adds inside an entry, in the entry's language. */
export const ENTRY_WORDS: Record<Lang, { alsoReportedBy: string }> = {
  en: { alsoReportedBy: 'Also reported by' },
  ru: { alsoReportedBy: 'Также сообщают' },
};
