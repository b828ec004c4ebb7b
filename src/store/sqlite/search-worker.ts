// The search index's side of the background thread (background.ts): a connection of its own that only reads the
// database and writes the index file, so the main thread never waits for it. It works in slices, one transaction of
// the index file each, and says so after each burst of work; it is told after the daemon's commits, and looks every
// second for writes of other processes (a one-shot `newsloom poll`).
import Database from 'better-sqlite3';
import { attachSearch, SearchIndexWriter } from './search-index.ts';

const IDLE_CHECK_MS = 1_000;
const RETRY_MS = 5_000;

export type SearchMessage = { type: 'open'; file: string } | { type: 'poke' };
export type SearchReply = { type: 'progress' } | { type: 'build'; message: string } | { type: 'error'; message: string };

export function searchService(post: (reply: SearchReply) => void): { receive(message: SearchMessage): void; stop(): void } {
  let db: Database.Database | undefined;
  let writer: SearchIndexWriter | undefined;
  let dataVersion: Database.Statement<[], number> | undefined;
  let running = false;
  let again = false;
  let seenVersion = -1;
  let idle: NodeJS.Timeout | undefined;

  const fail = (err: unknown) => {
    running = false;
    post({ type: 'error', message: `the search index could not be brought up to date: ${(err as Error).message}` });
    setTimeout(work, RETRY_MS).unref();
  };

  function work(): void {
    if (!writer) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    const slice = () => {
      if (!writer) return;
      let more: boolean;
      try {
        seenVersion = dataVersion!.get()!;
        more = writer.step();
      } catch (err) {
        return fail(err);
      }
      // Between slices, messages (another poke, a feed to prepare) are handled.
      if (more || again) {
        again = false;
        setImmediate(slice);
        return;
      }
      running = false;
      post({ type: 'progress' });
    };
    slice();
  }

  const open = (file: string) => {
    try {
      db = new Database(file, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      // It never writes the database (trimming the queue is the main thread's job); it reads each item once, so a small
      // cache of the database's pages is enough.
      db.pragma('cache_size = -2048');
      attachSearch(db, file);
      writer = new SearchIndexWriter(db, (message) => post({ type: 'build', message }));
      dataVersion = db.prepare<[], number>(`PRAGMA data_version`).pluck();
    } catch (err) {
      db?.close();
      db = undefined;
      post({ type: 'error', message: `the search index cannot be opened: ${(err as Error).message}` });
      setTimeout(() => open(file), RETRY_MS).unref();
      return;
    }
    idle = setInterval(() => {
      if (!running && dataVersion?.get() !== seenVersion) work();
    }, IDLE_CHECK_MS).unref();
    work();
  };

  return {
    receive(message) {
      if (message.type === 'open' && !db) open(message.file);
      if (message.type === 'poke') work();
    },
    stop() {
      clearInterval(idle);
      writer = undefined;
      db?.close();
      db = undefined;
    },
  };
}
