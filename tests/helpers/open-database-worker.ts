// Opens a database on a thread of its own (as another process would), telling the test when it is about to and what came
// of it: the schema version it found, or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, schemaVersion } from '../../src/store/sqlite/db.ts';

parentPort!.postMessage({ ready: true });
try {
  const db = openDatabase(workerData as string);
  parentPort!.postMessage({ ok: true, version: schemaVersion(db) });
  db.close();
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
