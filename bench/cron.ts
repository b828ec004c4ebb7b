// `node bench/cron.ts`: the main-thread cost of one nextCronRun (the next poll of a cron-scheduled source),
// warm, per expression, in UTC and in Europe/Moscow.
import { nextCronRun } from '../src/scheduler/schedule.ts';

const EXPRESSIONS = ['*/20 * * * *', '0 * * * *', '0 6 * * 1-5', '0 0 1 * *', '0 0 1 1 *', '0 0 29 2 *'];
const FROM = Date.parse('2026-03-01T10:00:00Z');
const CALLS = 2_000;

console.log('expression      zone            µs per call   next run');
for (const zone of ['UTC', 'Europe/Moscow']) {
  for (const expression of EXPRESSIONS) {
    // Different starting minutes, so that no answer is reused; the first calls warm the JIT and the cache.
    for (let i = 0; i < 200; i++) nextCronRun(expression, FROM + i * 60_000, zone);
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) nextCronRun(expression, FROM + i * 60_000, zone);
    const micros = ((performance.now() - started) * 1_000) / CALLS;
    console.log(`${expression.padEnd(16)}${zone.padEnd(16)}${micros.toFixed(1).padStart(11)}   ${new Date(nextCronRun(expression, FROM, zone)).toISOString()}`);
  }
}
