// `npm run bench`: runs every benchmark in its own process (so one bench's memory does not colour the
// next), prints one table, and writes the figures as JSON so that two runs can be compared:
//   npm run bench                       all benchmarks
//   npm run bench -- --only tagger,serve
//   npm run bench -- --compare bench/results/old.json
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DAEMON_NODE_FLAGS, fmt, type BenchResult, type Figure } from './lib.ts';

const BENCHES = ['poll-cycle', 'ingest', 'tagger', 'dedup', 'serve', 'startup'];
const HERE = import.meta.dirname;

interface Report {
  date: string;
  machine: string;
  node: string;
  results: BenchResult[];
}

async function child(name: string): Promise<void> {
  const module = (await import(path.join(HERE, `${name}.ts`))) as { run: () => Promise<BenchResult> };
  const result = await module.run();
  process.stdout.write(`\n@@BENCH@@${JSON.stringify(result)}\n`);
  process.exit(0);
}

function runOne(name: string): BenchResult {
  const started = Date.now();
  process.stderr.write(`running ${name}…\n`);
  try {
    const out = execFileSync(process.execPath, [...DAEMON_NODE_FLAGS, path.join(HERE, 'run.ts'), '--child', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 20 * 60_000,
    });
    const line = out.split('\n').find((l) => l.startsWith('@@BENCH@@'));
    if (!line) throw new Error('the benchmark printed no result');
    const result = JSON.parse(line.slice('@@BENCH@@'.length)) as BenchResult;
    process.stderr.write(`  ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return result;
  } catch (err) {
    process.stderr.write(`  ${name} FAILED: ${(err as Error).message.split('\n')[0]}\n`);
    return { name, figures: [{ label: 'FAILED (see stderr)', value: Number.NaN, unit: '' }] };
  }
}

function key(result: BenchResult, figure: Figure): string {
  return `${result.name}: ${figure.label}`;
}

function printTable(report: Report, previous?: Report): void {
  const before = new Map(previous?.results.flatMap((r) => r.figures.map((f) => [key(r, f), f.value] as const)));
  console.log(`\nnewsloom benchmarks — ${report.date} — ${report.machine} — node ${report.node}\n`);
  const header = ['benchmark', 'figure', 'value', 'unit', 'target', 'yardstick', ...(previous ? ['vs previous'] : [])];
  const rows = report.results.flatMap((r) =>
    r.figures.map((f) => {
      const old = before.get(key(r, f));
      return [
        r.name,
        f.label,
        Number.isNaN(f.value) ? '—' : fmt(f.value),
        f.unit,
        f.target ? `${f.target} ${f.ok ? 'met' : 'MISSED'}` : '',
        f.yardstick ? `${f.yardstick.label}: ${fmt(f.yardstick.value)} ${f.yardstick.unit}` : '',
        ...(previous ? [old === undefined || Number.isNaN(old) || old === 0 ? '' : `${((f.value / old) * 100).toFixed(0)} %`] : []),
      ];
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { child: { type: 'string' }, only: { type: 'string' }, compare: { type: 'string' }, out: { type: 'string' } },
  });
  if (values.child) return child(values.child);
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : BENCHES;
  const unknown = names.filter((n) => !BENCHES.includes(n));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')} (known: ${BENCHES.join(', ')})`);
  const previous = values.compare ? (JSON.parse(readFileSync(values.compare, 'utf8')) as Report) : undefined;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const report: Report = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.versions.node,
    results: names.map(runOne),
  };
  const out = values.out ?? path.join(HERE, 'results', `bench-${report.date.replaceAll(':', '-').slice(0, 19)}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(path.dirname(out), 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  printTable(report, previous);
  console.log(`\nfigures written to ${path.relative(process.cwd(), out)} (compare later with --compare ${path.relative(process.cwd(), out)})`);
  if (report.results.some((r) => r.figures.some((f) => Number.isNaN(f.value)))) process.exitCode = 1;
}

await main();
