// NEWSLOOM_* environment variables: settings an operator gives the container instead of editing the
// config file, and secrets read from files (NAME_FILE), the way Docker and Kubernetes hand them over.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A value from the environment, to be set at a path of the raw config before validation. */
export interface EnvOverride {
  /** The variable it came from (NAME or NAME_FILE), for error messages. */
  variable: string;
  path: (string | number)[];
  value: unknown;
}

export interface EnvProblem {
  variable: string;
  message: string;
}

/** Settings with one variable each, and the field each replaces. */
const SETTINGS: { name: string; path: string[]; value: (raw: string) => unknown }[] = [
  { name: 'NEWSLOOM_PORT', path: ['server', 'port'], value: (raw) => (/^\d+$/.test(raw) ? Number(raw) : raw) },
  { name: 'NEWSLOOM_HOST', path: ['server', 'host'], value: (raw) => raw },
  { name: 'NEWSLOOM_BASE_URL', path: ['server', 'base_url'], value: (raw) => raw },
  { name: 'NEWSLOOM_DATA_DIR', path: ['storage', 'path'], value: (raw) => path.join(raw, 'newsloom.db') },
  { name: 'NEWSLOOM_DATABASE_URL', path: ['storage', 'url'], value: (raw) => raw },
  { name: 'NEWSLOOM_DATABASE_PASSWORD', path: ['storage', 'password'], value: (raw) => raw },
  { name: 'NEWSLOOM_LOG_LEVEL', path: ['log', 'level'], value: (raw) => raw },
  { name: 'NEWSLOOM_OPS_TOKEN', path: ['server', 'ops_auth', 'token'], value: (raw) => raw },
  { name: 'NEWSLOOM_OPS_USERNAME', path: ['server', 'ops_auth', 'username'], value: (raw) => raw },
  { name: 'NEWSLOOM_OPS_PASSWORD', path: ['server', 'ops_auth', 'password'], value: (raw) => raw },
];

/** Per-source credentials: NEWSLOOM_SOURCE_<ID>_USERNAME and _PASSWORD fill `auth` of the source with that id. */
const SOURCE_FIELDS = ['username', 'password'] as const;

/** Variables read elsewhere: the config file's path (before there is a config), and the dev scripts' Node cache. */
const READ_ELSEWHERE = ['NEWSLOOM_CONFIG', 'NEWSLOOM_NODE_HOME'];
/** The PostgreSQL server the tests make their databases on: set for a whole test run (the CLI's children too), not newsloom's. */
const TESTS_ONLY = ['NEWSLOOM_TEST_DATABASE_URL'];

/** The variable prefix of a source: its id in capitals, with "-" as "_" (tass-en → NEWSLOOM_SOURCE_TASS_EN_). */
export function sourceVariablePrefix(id: string): string {
  return `NEWSLOOM_SOURCE_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/** What the environment sets in a raw (not yet validated) config, and what is wrong with it. */
export function environmentOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): { overrides: EnvOverride[]; problems: EnvProblem[] } {
  const overrides: EnvOverride[] = [];
  const problems: EnvProblem[] = [];
  for (const setting of SETTINGS) {
    const found = lookup(env, setting.name, problems);
    if (found) overrides.push({ variable: found.variable, path: setting.path, value: setting.value(found.value) });
  }
  // A PostgreSQL URL from the environment replaces the SQLite file, the config's and the image's (NEWSLOOM_DATA_DIR) alike.
  const url = overrides.find((o) => o.path.join('.') === 'storage.url');
  if (url) {
    const others = overrides.filter((o) => o.path.join('.') !== 'storage.path');
    overrides.splice(0, overrides.length, ...others, { variable: url.variable, path: ['storage', 'path'], value: undefined });
  }
  sourceIds(raw).forEach((id, index) => {
    if (id === undefined) return;
    for (const field of SOURCE_FIELDS) {
      const found = lookup(env, `${sourceVariablePrefix(id)}${field.toUpperCase()}`, problems);
      if (found) overrides.push({ variable: found.variable, path: ['sources', index, 'auth', field], value: found.value });
    }
  });
  return { overrides, problems };
}

/** NEWSLOOM_* variables that nothing reads: most likely typos, or credentials for a source id that does not exist. */
export function unknownVariables(env: NodeJS.ProcessEnv, sourceIdList: string[]): string[] {
  const known = knownVariables(sourceIdList);
  return newsloomVariables(env).filter((name) => !known.has(name) && !TESTS_ONLY.includes(name));
}

/** Known NEWSLOOM_* variables that are set, for `newsloom check` to show what the environment changes. */
export function variablesInEffect(env: NodeJS.ProcessEnv, sourceIdList: string[]): string[] {
  const known = knownVariables(sourceIdList);
  return newsloomVariables(env).filter((name) => known.has(name) && env[name]);
}

function newsloomVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('NEWSLOOM_'))
    .sort();
}

function knownVariables(sourceIdList: string[]): Set<string> {
  const known = new Set(READ_ELSEWHERE);
  const names = [
    ...SETTINGS.map((s) => s.name),
    ...sourceIdList.flatMap((id) => SOURCE_FIELDS.map((field) => `${sourceVariablePrefix(id)}${field.toUpperCase()}`)),
  ];
  for (const name of names) known.add(name).add(`${name}_FILE`);
  return known;
}

/** The value of NAME, or the contents of the file NAME_FILE names (one final newline dropped). */
function lookup(env: NodeJS.ProcessEnv, name: string, problems: EnvProblem[]): { value: string; variable: string } | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (file) {
    if (direct) {
      problems.push({ variable: name, message: `both ${name} and ${name}_FILE are set: set one of them` });
      return undefined;
    }
    try {
      return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, ''), variable: `${name}_FILE` };
    } catch (err) {
      problems.push({ variable: `${name}_FILE`, message: `cannot read ${file}: ${(err as Error).message}` });
      return undefined;
    }
  }
  return direct ? { value: direct, variable: name } : undefined;
}

function sourceIds(raw: Record<string, unknown>): (string | undefined)[] {
  const sources = raw.sources;
  if (!Array.isArray(sources)) return [];
  return sources.map((s: unknown) => (typeof s === 'object' && s !== null && 'id' in s && typeof s.id === 'string' ? s.id : undefined));
}
