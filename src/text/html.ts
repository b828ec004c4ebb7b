// Text in and out of HTML: escaping for it, and the text a reader sees in it.
import { Parser } from 'htmlparser2';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]!};`);
}

const BLOCK_TAGS = new Set(['p', 'div', 'br', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'figure', 'figcaption', 'hr', 'table', 'ul', 'ol', 'section', 'article']);

/** The text a reader sees in a piece of HTML, entities decoded, with whitespace collapsed. */
export function htmlToText(html: string): string {
  if (!html) return '';
  if (!/[<&]/.test(html)) return collapse(html);
  let text = '';
  let skip = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'script' || name === 'style') skip++;
        else if (BLOCK_TAGS.has(name)) text += ' ';
      },
      ontext(chunk) {
        if (skip === 0) text += chunk;
      },
      onclosetag(name) {
        if (name === 'script' || name === 'style') skip = Math.max(0, skip - 1);
        else if (BLOCK_TAGS.has(name)) text += ' ';
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return collapse(text);
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
