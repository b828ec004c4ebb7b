// The worker thread that keeps the search index (search-index.ts): a connection of its own that only reads the
// database and writes the index file, so the daemon's thread never waits for it. It works in slices, one transaction
// of the index file each, and tells the daemon after each burst of work; it is told after the daemon's commits, and
// looks every second for writes of other processes (a one-shot `newsloom poll`).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { attachSearch, SearchIndexWriter } from './search-index.ts';

const IDLE_CHECK_MS = 1_000;
const RETRY_MS = 5_000;

const port = parentPort!;
const { file } = workerData as { file: string };
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
// It never writes the database (trimming the queue is the daemon's connection's job). It reads each item once: a small cache of the database's pages is enough.
db.pragma('cache_size = -2048');
attachSearch(db, file);
const writer = new SearchIndexWriter(db);
const dataVersion = db.prepare<[], number>(`PRAGMA data_version`).pluck();

let running = false;
let again = false;
let stopped = false;
let seenVersion = -1;

function work(): void {
  if (stopped) return;
  if (running) {
    again = true;
    return;
  }
  running = true;
  again = false;
  const slice = () => {
    if (stopped) return;
    let more: boolean;
    try {
      seenVersion = dataVersion.get()!;
      more = writer.step();
    } catch (err) {
      running = false;
      port.postMessage({ type: 'error', message: `the search index could not be brought up to date: ${(err as Error).message}` });
      setTimeout(work, RETRY_MS).unref();
      return;
    }
    // Between slices, messages (another poke, stop) are handled.
    if (more || again) {
      again = false;
      setImmediate(slice);
      return;
    }
    running = false;
    port.postMessage({ type: 'progress' });
  };
  slice();
}

port.on('message', (message: string) => {
  if (message === 'poke') work();
  if (message === 'stop') {
    stopped = true;
    clearInterval(idle);
    db.close();
    // Ends this thread only.
    process.exit(0);
  }
});

const idle = setInterval(() => {
  if (!running && dataVersion.get() !== seenVersion) work();
}, IDLE_CHECK_MS);

work();
