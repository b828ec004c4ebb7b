// Reads the YAML config, applies NEWSLOOM_* environment overrides, validates it, and turns every
// problem into an error that names the file, the line and the field.
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { environmentOverrides } from './env.ts';
import { configSchema, type Config } from './schema.ts';

export const DEFAULT_CONFIG_PATH = 'config/newsloom.yaml';

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  field: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** The config file to use: --config beats NEWSLOOM_CONFIG beats the default. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.NEWSLOOM_CONFIG ?? DEFAULT_CONFIG_PATH;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, field: '', message: `cannot read the config: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): { line?: number; col?: number } => (offset === undefined ? {} : lineCounter.linePos(offset));
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { file, line, column: col, field: '', message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, field: '', message: 'the config must be a mapping (server:, sources:, topics:, outputs:)' }]);
  }
  const { overrides, problems } = environmentOverrides(raw as Record<string, unknown>, env);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => ({ file: `environment ${p.variable}`, field: '', message: p.message })));
  const fromEnv = new Map<string, string>();
  for (const override of overrides) {
    setIn(raw as Record<string, unknown>, override.path, override.value);
    fromEnv.set(override.path.join('.'), override.variable);
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const issuePath = [...issue.path] as (string | number)[];
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        issuePath.push(issue.keys[0]!);
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      const field = formatField(issuePath);
      const envName = fromEnv.get(issuePath.join('.'));
      if (envName) return { file: `environment ${envName}`, field, message };
      const { line, col } = at(locate(doc, issuePath));
      return { file, line, column: col, field, message };
    }),
  );
}

/** The offset of the deepest node of the path that exists in the document. */
function locate(doc: Document, issuePath: (string | number)[]): number | undefined {
  for (let depth = issuePath.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(issuePath.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function formatField(issuePath: (string | number)[]): string {
  return issuePath.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

function setIn(target: Record<string, unknown>, keys: (string | number)[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}
