// The layers of src/ point one way (ARCHITECTURE.md, "Layers"): every import of every source file is checked against
// the table below, read with the TypeScript compiler's own parser, so that a wrong-way import fails the suite.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

interface Layer {
  name: string;
  /** Files (a path) and folders (ending in /) of the layer; the longest match decides. */
  files: string[];
  /** Layers whose values it may import (its own always). */
  imports: string[];
  /** Layers it may import types from, beyond those (`import type`: nothing of them runs). */
  types?: string[];
}

const LAYERS: Layer[] = [
  // Text functions several layers need: words and stems, story prints, HTML text, XML characters, ids; and the Item.
  { name: 'text', files: ['src/text/', 'src/item.ts'], imports: [] },
  { name: 'base', files: ['src/log.ts', 'src/background.ts', 'src/operator-error.ts', 'src/config/units.ts'], imports: [] },
  { name: 'sources', files: ['src/sources/'], imports: ['text', 'base'] },
  { name: 'store', files: ['src/store/'], imports: ['text', 'base'] },
  { name: 'pipeline', files: ['src/pipeline/'], imports: ['sources', 'store', 'text', 'base'] },
  { name: 'metrics', files: ['src/metrics.ts'], imports: ['store', 'text', 'base'], types: ['pipeline'] },
  { name: 'publish', files: ['src/publish/'], imports: ['store', 'text', 'base'], types: ['metrics'] },
  { name: 'scheduler', files: ['src/scheduler/'], imports: ['pipeline', 'sources', 'store', 'text', 'base'] },
  // The config is checked with the parsers of what it configures (selectors, dates, topic terms, OPML, schedules); the
  // layers it configures read only its types.
  { name: 'config', files: ['src/config/'], imports: ['publish', 'scheduler', 'pipeline', 'sources', 'text', 'base'] },
  { name: 'process', files: ['src/cli.ts', 'src/daemon.ts', 'src/background-worker.ts'], imports: ['config', 'scheduler', 'publish', 'metrics', 'pipeline', 'store', 'sources', 'text', 'base'] },
];
/** Every layer may read the config's types. */
const TYPES_FOR_ALL = ['config'];
/** Each engine's folder, and the driver only it may import. */
const ENGINES = [
  { folder: 'src/store/sqlite/', driver: 'better-sqlite3', name: 'SQLite' },
  { folder: 'src/store/postgres/', driver: 'pg', name: 'PostgreSQL' },
];
const STORE = 'src/store/';

function layerOf(file: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of LAYERS) {
    for (const entry of layer.files) {
      const matches = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (matches && entry.length > (best?.length ?? -1)) best = { layer, length: entry.length };
    }
  }
  return best?.layer;
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: Import[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypeSpecifiers = !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly) && !clause.name;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: !!clause && (clause.isTypeOnly || onlyTypeSpecifiers) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** What crosses a layer the wrong way in these files (path relative to the project → text), in words. */
function layerViolations(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    const layer = layerOf(file);
    if (!layer) {
      problems.push(`${file} belongs to no layer: add it to the table in tests/layers.test.ts`);
      continue;
    }
    for (const { specifier, typeOnly } of importsOf(file, text)) {
      const driven = ENGINES.find((engine) => engine.driver === specifier);
      if (driven && !file.startsWith(driven.folder)) {
        problems.push(`${file} imports ${specifier}: only the ${driven.name} engine (${driven.folder}) may`);
        continue;
      }
      if (!specifier.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const inside = ENGINES.find((engine) => target.startsWith(engine.folder));
      if (inside && !file.startsWith(STORE)) {
        problems.push(`${file} imports ${target}: only the store (${STORE}) may reach inside the ${inside.name} engine`);
        continue;
      }
      const to = layerOf(target);
      if (!to || to === layer) continue;
      const allowed = [...layer.imports, ...(typeOnly ? [...(layer.types ?? []), ...TYPES_FOR_ALL] : [])];
      if (!allowed.includes(to.name)) {
        problems.push(`${file} imports ${target}${typeOnly ? ' (types)' : ''}: ${layer.name} may not import ${typeOnly ? 'the types of ' : ''}${to.name}`);
      }
    }
  }
  return problems;
}

const root = path.join(import.meta.dirname, '..');

function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    const file = path.posix.join('src', entry.split(path.sep).join('/'));
    files.set(file, readFileSync(path.join(root, file), 'utf8'));
  }
  return files;
}

/** The source files with `line` added at the top of `file`. */
function planted(file: string, line: string): Map<string, string> {
  const files = sourceFiles();
  files.set(file, `${line}\n${files.get(file)!}`);
  return files;
}

describe('the layers of src/', () => {
  it('import only downwards: nothing crosses a layer the wrong way', () => {
    const files = sourceFiles();
    expect(files.size).toBeGreaterThan(50);
    expect(layerViolations(files)).toEqual([]);
  });

  it('fails on a planted wrong-way import: the store importing the pipeline', () => {
    const files = planted('src/store/sqlite/items.ts', `import { storeItems } from '../../pipeline/ingest.ts';`);
    expect(layerViolations(files)).toEqual(['src/store/sqlite/items.ts imports src/pipeline/ingest.ts: store may not import pipeline']);
  });

  it('fails when the text layer reaches up, even for types', () => {
    const files = planted('src/text/words.ts', `import type { Store } from '../store/store.ts';`);
    expect(layerViolations(files)).toEqual(['src/text/words.ts imports src/store/store.ts (types): text may not import the types of store']);
  });

  it('keeps SQLite inside its engine folder', () => {
    expect(layerViolations(planted('src/publish/ops.ts', `import Database from 'better-sqlite3';`))).toEqual([
      'src/publish/ops.ts imports better-sqlite3: only the SQLite engine (src/store/sqlite/) may',
    ]);
    expect(layerViolations(planted('src/pipeline/ingest.ts', `import { ItemStore } from '../store/sqlite/items.ts';`))).toEqual([
      'src/pipeline/ingest.ts imports src/store/sqlite/items.ts: only the store (src/store/) may reach inside the SQLite engine',
    ]);
  });

  it('keeps PostgreSQL inside its engine folder', () => {
    expect(layerViolations(planted('src/daemon.ts', `import pg from 'pg';`))).toEqual(['src/daemon.ts imports pg: only the PostgreSQL engine (src/store/postgres/) may']);
    expect(layerViolations(planted('src/store/sqlite/items.ts', `import pg from 'pg';`))).toEqual([
      'src/store/sqlite/items.ts imports pg: only the PostgreSQL engine (src/store/postgres/) may',
    ]);
    expect(layerViolations(planted('src/publish/site.ts', `import { openPostgresStore } from '../store/postgres/store.ts';`))).toEqual([
      'src/publish/site.ts imports src/store/postgres/store.ts: only the store (src/store/) may reach inside the PostgreSQL engine',
    ]);
  });

  it('lets the layers below the config read its types, not its code', () => {
    expect(layerViolations(planted('src/sources/fetch.ts', `import type { Config } from '../config/schema.ts';`))).toEqual([]);
    expect(layerViolations(planted('src/sources/fetch.ts', `import { configSchema } from '../config/schema.ts';`))).toEqual([
      'src/sources/fetch.ts imports src/config/schema.ts: sources may not import config',
    ]);
  });
});
