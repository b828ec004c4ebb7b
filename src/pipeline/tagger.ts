// Topic tagging: a topic's terms are matched case-insensitively on word boundaries in an item's title,
// summary, content and categories; a term ending in "*" matches words that start with it.
import type { Item, Tag, TopicMatch } from '../item.ts';
import type { TopicConfig } from '../config/schema.ts';
import { tokenize, type Token } from './words.ts';

interface Term {
  source: string;
  words: string[];
  /** The last word matches as a prefix. */
  prefix: boolean;
}

interface CompiledTopic {
  id: string;
  terms: Term[];
}

export interface Tagger {
  topics: CompiledTopic[];
}

type Field = TopicMatch['field'];

export function compileTopics(topics: TopicConfig[]): Tagger {
  return {
    topics: topics.map((topic) => ({
      id: topic.id,
      terms: topic.any.map((source) => {
        const prefix = source.trimEnd().endsWith('*');
        return { source, prefix, words: tokenize(source).map((t) => t.word) };
      }).filter((term) => term.words.length > 0),
    })),
  };
}

export function tagItem(tagger: Tagger, item: Pick<Item, 'title' | 'summaryText' | 'contentText' | 'categories'>): Tag[] {
  const fields: [Field, string][] = [
    ['title', item.title],
    ['summary', item.summaryText],
    ['content', item.contentText],
    ['categories', item.categories.join('\n')],
  ];
  const tokenized = fields.map(([field, text]) => ({ field, text, tokens: tokenize(text) }));
  const tags: Tag[] = [];
  for (const topic of tagger.topics) {
    const matches: TopicMatch[] = [];
    for (const term of topic.terms) {
      for (const { field, text, tokens } of tokenized) {
        const found = findTerm(term, tokens);
        if (found) {
          matches.push({ term: term.source, field, matched: text.slice(found.start, found.end) });
          break;
        }
      }
    }
    if (matches.length > 0) tags.push({ topic: topic.id, matches });
  }
  return tags;
}

function findTerm(term: Term, tokens: Token[]): { start: number; end: number } | undefined {
  const last = term.words.length - 1;
  outer: for (let i = 0; i + last < tokens.length; i++) {
    for (let j = 0; j <= last; j++) {
      const word = tokens[i + j]!.word;
      const want = term.words[j]!;
      const ok = j === last && term.prefix ? word.startsWith(want) : word === want;
      if (!ok) continue outer;
    }
    return { start: tokens[i]!.start, end: tokens[i + last]!.end };
  }
  return undefined;
}
