import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS as flags } from '../bench/lib.ts';

const shebang = readFileSync(new URL('../src/cli.ts', import.meta.url), 'utf8').split('\n', 1)[0]!;

describe('the V8 flags the daemon runs with', () => {
  it('are given by the shebang of the command, and node accepts them', () => {
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    expect(flags).toContain('--max-semi-space-size=8');
    // The old generation grows by at most 2x its live size between full collections (V8 picks up to 4x otherwise).
    expect(flags).toContain('--heap-growing-percent=100');
    // A flag node does not know would keep the daemon from starting at all; this one keeps the young generation small
    // under a burst of short-lived garbage (without it, new space grows to 128 MiB here).
    const churn = `let keep = []; for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 2e5) keep = []; }
      console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)`;
    const newSpace = (args: string[]) => Number(execFileSync(process.execPath, [...args, '-e', churn], { encoding: 'utf8' }));
    expect(newSpace(flags)).toBeLessThanOrEqual(16 * 1048576);
    expect(newSpace([])).toBeGreaterThan(16 * 1048576);
  });

  it('are the same for npm start and npm run dev', () => {
    const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'dev']) expect(scripts[name], name).toMatch(new RegExp(`^node ${flags.join(' ')} (dist|src)/cli\\.(js|ts) run$`));
  });
});
