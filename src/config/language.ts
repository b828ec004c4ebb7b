// Language tags (BCP 47: en, ru, en-US, sr-Latn) as sources and topics write them, with a suggestion when the
// config names the language instead ("english" → en): a tag items never carry silently matches nothing.

/** Why `tag` is not a language tag, with the tag meant when it can be guessed; undefined when it is one. */
export function languageProblem(tag: string): string | undefined {
  if (/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i.test(tag) && isTag(tag)) return undefined;
  const dashed = tag.replaceAll('_', '-');
  const meant = dashed !== tag && !languageProblem(dashed) ? dashed : byName().get(tag.trim().toLowerCase());
  return `"${tag}" is not a BCP 47 language tag${meant ? `: did you mean ${meant}?` : ' (e.g. en, ru, en-US)'}`;
}

function isTag(tag: string): boolean {
  try {
    Intl.getCanonicalLocales(tag);
    return true;
  } catch {
    return false;
  }
}

let names: Map<string, string> | undefined;

/** Two-letter codes by their names in English and Russian ("english" and "английский" → en); built on the first miss. */
function byName(): Map<string, string> {
  if (names) return names;
  names = new Map();
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (const locale of ['en', 'ru']) {
    const display = new Intl.DisplayNames([locale], { type: 'language', fallback: 'none' });
    for (const a of letters) {
      for (const b of letters) {
        const name = display.of(a + b);
        if (name && !names.has(name.toLowerCase())) names.set(name.toLowerCase(), a + b);
      }
    }
  }
  return names;
}
