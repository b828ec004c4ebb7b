// Once per run, before the tests: says whether the store's tests run on PostgreSQL too, and drops the test databases
// that runs which were killed left behind (their process is gone; each name carries its pid).
import { onServer, SKIPPED_MESSAGE, TEST_DATABASE_URL } from './engines.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function setup(): Promise<void> {
  if (!TEST_DATABASE_URL) {
    process.stdout.write(`${SKIPPED_MESSAGE}\n`);
    return;
  }
  await onServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'newsloom\\_test\\_%'`);
    for (const { datname } of rows) {
      const pid = Number(/_(\d+)_\d+$/.exec(datname)?.[1]);
      if (Number.isSafeInteger(pid) && !alive(pid)) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  });
}
