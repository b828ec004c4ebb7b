// The preparing side of the background thread (background.ts): one fetched feed at a time, in the order asked. A
// ParseError goes back with the body it was about, so the main thread can tell what the response was instead.
import type { TransferListItem } from 'node:worker_threads';
import { ParseError } from '../sources/feed.ts';
import { ownBuffer, prepareFeed, type PrepareJob, type PrepareReply } from './prepare.ts';

export function prepareService(post: (reply: PrepareReply, transfer?: TransferListItem[]) => void): { receive(message: { id: number; job: PrepareJob }): void } {
  return {
    receive({ id, job }) {
      prepareFeed(job).then(
        (feed) => post({ id, ok: true, feed }),
        (err: unknown) => {
          const parse = err instanceof ParseError;
          const message = err instanceof Error ? err.message : String(err);
          post({ id, ok: false, parse, message, body: job.body }, ownBuffer(job.body));
        },
      );
    },
  };
}
