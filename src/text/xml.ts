// Text that XML can carry: what a feed we read or write may contain.

/** Removes characters that XML 1.0 forbids, so one stray control byte does not fail a whole feed. */
export function stripIllegalXmlChars(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
}
