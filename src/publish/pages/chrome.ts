// What every HTML page shares: the document around its content, the style sheet (inline: a page loads nothing
// else), the header with the search box, and the page's own words in English and Russian.
import { escapeHtml as e } from '../../text/html.ts';
import { feedUrl, MEDIA_TYPES, type FeedAddress, type FeedFormat } from '../document.ts';
import type { Lang } from '../language.ts';

/** Headers every page is sent with: it loads nothing but the entries' images, and runs no script. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; form-action 'self'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
};

export const FORMAT_NAMES: [FeedFormat, string][] = [
  ['atom', 'Atom'],
  ['rss', 'RSS'],
  ['json', 'JSON Feed'],
];

export interface Chrome {
  lang: Lang;
  baseUrl: string;
  /** A search box in the header: not on a static export, where nothing could answer it. */
  search: boolean;
  /** The text already in the search box. */
  query?: string | undefined;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#595959;--line:#d8d8d8;--link:#0645ad;--box:#f3f1ea;--mark:#ffe680}
@media (prefers-color-scheme:dark){:root{--fg:#e8e6e3;--bg:#15171a;--muted:#a8a8a8;--line:#3a3d42;--link:#8ab4f8;--box:#23262b;--mark:#5c4d00}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:48rem;margin:0 auto;padding:0 1rem 2rem;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--link)}
header.site{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.8rem 0;border-bottom:1px solid var(--line);margin-bottom:1rem}
header.site .home{font-weight:700;font-size:1.2rem;text-decoration:none;color:var(--fg)}
form.search{display:flex;gap:.4rem;flex:1 1 14rem;max-width:24rem}
form.search input{flex:1;min-width:0}
input,button{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--muted);border-radius:.3rem;padding:.3rem .5rem}
button{background:var(--box);cursor:pointer}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.2rem;line-height:1.3;margin:1.2rem 0 .4rem}
.meta,.count{color:var(--muted);font-size:.875rem}
.box{background:var(--box);border-radius:.4rem;padding:.6rem .9rem;margin:1rem 0}
.box input{width:100%;margin:.3rem 0}
.box p{margin:.3rem 0}
.formats a{margin-right:.6rem}
article.entry{border-bottom:1px solid var(--line);padding:.8rem 0}
article.entry h2{font-size:1.1rem;margin:0 0 .2rem}
article.entry img{display:block;max-width:100%;height:auto;max-height:18rem;object-fit:cover;border-radius:.3rem;margin:.4rem 0}
article.entry p{margin:.3rem 0}
.related{font-size:.9rem;margin:.3rem 0}
.related ul{margin:.2rem 0;padding-left:1.2rem}
.topics a{display:inline-block;background:var(--box);border-radius:.3rem;padding:0 .4rem;margin:0 .3rem .2rem 0;font-size:.85rem;text-decoration:none}
mark{background:var(--mark);color:var(--fg);padding:0 .1em}
nav.pages{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
section.output{border-bottom:1px solid var(--line);padding-bottom:.5rem}
ul.latest{padding-left:1.2rem}
table{border-collapse:collapse;width:100%}
td,th{padding:.25rem .5rem;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{overflow-wrap:normal}
@media (max-width:34rem){#health thead{display:none}#health tr{display:block;border-bottom:1px solid var(--line);padding:.3rem 0}#health td{display:block;border:0;padding:0}#health td[data-label]::before{content:attr(data-label) ": ";color:var(--muted)}}
tr.error td:nth-child(2){color:#b00020}
@media (prefers-color-scheme:dark){tr.error td:nth-child(2){color:#ff8a80}}
`;

/** The whole page around its content. */
export function page(chrome: Chrome, title: string, head: string, content: string): string {
  const words = CHROME_WORDS[chrome.lang];
  const searchBox = chrome.search
    ? `<form class="search" role="search" action="${e(`${chrome.baseUrl}/search.html`)}" method="get">
<label for="search-q" class="visually-hidden">${words.searchLabel}</label>
<input type="search" id="search-q" name="q" required maxlength="256" value="${e(chrome.query ?? '')}" placeholder="${words.searchLabel}">
<button type="submit">${words.search}</button>
</form>`
    : '';
  return `<!doctype html>
<html lang="${chrome.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${e(title)}</title>
${head}
<style>${STYLE}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}</style>
</head>
<body>
<header class="site">
<a class="home" href="${e(`${chrome.baseUrl}/`)}">newsloom</a>
${searchBox}
</header>
<main>
${content}
</main>
</body>
</html>
`;
}

/** `<link rel="alternate">` to a feed in every format, for feed readers and browsers that discover feeds. */
export function alternateLinks(address: FeedAddress, title: string): string {
  return FORMAT_NAMES.map(
    ([format, name]) =>
      `<link rel="alternate" type="${MEDIA_TYPES[format]}" title="${e(format === 'atom' ? title : `${title} (${name})`)}" href="${e(feedUrl(address, format))}">`,
  ).join('\n');
}

/** A feed's links in every format, labelled. */
export function formatLinks(address: FeedAddress): string {
  return `<span class="formats">${FORMAT_NAMES.map(([format, name]) => `<a href="${e(feedUrl(address, format))}" type="${MEDIA_TYPES[format]}">${name}</a>`).join(' ')}</span>`;
}

/** The subscribe box: the feed's address, ready to copy into a reader, and its other formats. */
export function subscribeBox(address: FeedAddress, lang: Lang): string {
  const words = CHROME_WORDS[lang];
  return `<section class="box subscribe" aria-labelledby="subscribe-title">
<h2 id="subscribe-title">${words.subscribe}</h2>
<p><label for="feed-url">${words.copyAddress}</label></p>
<input id="feed-url" type="url" readonly value="${e(feedUrl(address, 'atom'))}">
<p>${words.formats}: ${formatLinks(address)}</p>
</section>`;
}

/** A moment as readers of the page's language write it, in UTC (a page served to everyone has no better zone). */
export function showDate(ms: number, lang: Lang): string {
  return `${DATE_FORMATS[lang].format(ms)} UTC`;
}

export function timeElement(ms: number, lang: Lang): string {
  return `<time datetime="${new Date(ms).toISOString()}">${e(showDate(ms, lang))}</time>`;
}

const DATE_FORMATS: Record<Lang, Intl.DateTimeFormat> = {
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }),
  ru: new Intl.DateTimeFormat('ru-RU', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }),
};

const PLURALS: Record<Lang, Intl.PluralRules> = { en: new Intl.PluralRules('en'), ru: new Intl.PluralRules('ru') };

/** "1 entry", "5 entries"; "1 запись", "3 записи", "5 записей". */
export function plural(n: number, lang: Lang, forms: Partial<Record<Intl.LDMLPluralRule, string>>): string {
  return `${n} ${forms[PLURALS[lang].select(n)] ?? forms.other}`;
}

export const CHROME_WORDS = {
  en: {
    search: 'Search',
    searchTitle: 'Search',
    searchLabel: 'Search the news',
    subscribe: 'Subscribe',
    copyAddress: 'Copy this address into your feed reader:',
    formats: 'Formats',
    newer: 'Newer entries',
    older: 'Older entries',
    newest: 'Newest entries',
    pages: 'Pages',
    noEntries: 'No entries yet.',
    entries: { one: 'entry', other: 'entries' },
    results: { one: 'result', other: 'results' },
    resultsFor: (count: string, q: string) => `${count} for “${q}”`,
    nothingFound: (q: string) => `Nothing found for “${q}”.`,
    searchAll: 'Search titles and text of every stored item.',
    badQuery: 'This search cannot be run:',
    hintsTitle: 'How to search',
    hints: [
      'Every word must appear, in any order, in the title or text, in any of its forms: <code>Kazakhstan peacekeeper</code> also finds “Kazakhstan’s peacekeepers”, <code>Казахстан</code> also “в Казахстане”.',
      '<code>"quoted words"</code> must appear together, in that order, exactly as written.',
      '<code>word*</code> finds words starting so (three letters at least): <code>Казах*</code>.',
      '<code>Astana OR Almaty</code> finds either; <code>-word</code> or <code>NOT word</code> leaves out what has it.',
      'Best matches come first; <code>sort=date</code> in the address puts the newest first.',
    ],
    feeds: 'Feeds',
    topics: 'Topics',
    sources: 'Sources',
    health: 'Source health',
    healthColumns: ['Source', 'State', 'Items', 'Last success'],
    state: { ok: 'ok', error: 'error', disabled: 'disabled', pending: 'not polled yet' },
    intro: (sources: string, opml: string) => `News from ${sources}, woven into feeds by topic. Read them here, subscribe to any feed in your feed reader, or import ${opml}.`,
    sourcesCount: { one: 'source', other: 'sources' },
    allFeeds: 'all of them (OPML)',
    allFeedsTitle: 'All feeds (OPML)',
    noOutputs: 'No outputs are configured.',
    siteTitle: 'newsloom feeds',
    read: 'Read',
  },
  ru: {
    search: 'Найти',
    searchTitle: 'Поиск',
    searchLabel: 'Поиск по новостям',
    subscribe: 'Подписаться',
    copyAddress: 'Скопируйте этот адрес в программу для чтения лент:',
    formats: 'Форматы',
    newer: 'Более новые',
    older: 'Более ранние',
    newest: 'Самые новые',
    pages: 'Страницы',
    noEntries: 'Записей пока нет.',
    entries: { one: 'запись', few: 'записи', many: 'записей', other: 'записи' },
    results: { one: 'результат', few: 'результата', many: 'результатов', other: 'результата' },
    resultsFor: (count: string, q: string) => `${count} по запросу «${q}»`,
    nothingFound: (q: string) => `По запросу «${q}» ничего не найдено.`,
    searchAll: 'Поиск по заголовкам и тексту всех сохранённых записей.',
    badQuery: 'Этот запрос не выполнить:',
    hintsTitle: 'Как искать',
    hints: [
      'Находятся записи, где есть все слова запроса в любой форме, в любом порядке, в заголовке или тексте: <code>Казахстан</code> находит и «в Казахстане», <code>Токаевым</code> — и «Токаев».',
      '<code>"слова в кавычках"</code> должны стоять рядом, в этом порядке и в этой форме.',
      '<code>слово*</code> находит слова, которые так начинаются (не меньше трёх букв): <code>Казах*</code>.',
      '<code>Астана OR Алматы</code> находит любое из двух; <code>-слово</code> или <code>NOT слово</code> исключает записи с ним.',
      'Сначала лучшие совпадения; <code>sort=date</code> в адресе ставит первыми самые новые.',
    ],
    feeds: 'Ленты',
    topics: 'Темы',
    sources: 'Источники',
    health: 'Состояние источников',
    healthColumns: ['Источник', 'Состояние', 'Записей', 'Последний успех'],
    state: { ok: 'работает', error: 'ошибка', disabled: 'отключён', pending: 'ещё не опрашивался' },
    intro: (sources: string, opml: string) => `Новости из ${sources}, собранные в ленты по темам. Читайте их здесь, подпишитесь на любую ленту в программе для чтения лент или импортируйте ${opml}.`,
    sourcesCount: { one: 'источника', few: 'источников', many: 'источников', other: 'источника' },
    allFeeds: 'все сразу (OPML)',
    allFeedsTitle: 'Все ленты (OPML)',
    noOutputs: 'Ленты не настроены.',
    siteTitle: 'Ленты newsloom',
    read: 'Читать',
  },
} satisfies Record<Lang, unknown>;
