// The background thread's entry (background.ts): each message goes to the service it names.
import { parentPort, type TransferListItem } from 'node:worker_threads';
import { prepareService } from './pipeline/prepare-worker.ts';
import { searchService } from './store/store.ts';

const port = parentPort!;
const sender = (from: string) => (message: unknown, transfer: TransferListItem[] = []) => port.postMessage({ from, message }, transfer);
const prepare = prepareService(sender('prepare'));
const search = searchService(sender('search'));

port.on('message', ({ to, message }: { to: string; message: never }) => {
  if (to === 'prepare') prepare.receive(message);
  else if (to === 'search') search.receive(message);
  else if (message === 'stop') {
    search.stop();
    // The thread ends once nothing is left to do, its database closed: not by process.exit, whose abrupt teardown of a
    // thread that loaded better-sqlite3 has been seen to crash the process (SIGSEGV, in a test run of 2026-12-04).
    port.close();
  }
});
