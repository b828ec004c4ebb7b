// Said once per run, before the tests: whether the store's tests run on PostgreSQL too.
import { SKIPPED_MESSAGE, TEST_DATABASE_URL } from './engines.ts';

export default function setup(): void {
  if (!TEST_DATABASE_URL) process.stdout.write(`${SKIPPED_MESSAGE}\n`);
}
