// A newsloom server in a process of its own (run with --expose-gc), holding 30 long items, for measuring what its render
// cache holds: it tells its parent its URL, and its memory after a full collection whenever the parent asks.
import { startPublishing } from './publish.ts';

const publishing = await startPublishing(`
server: { cache_size: ${Number(process.argv[2])} }
sources:
  - { id: wire, url: "http://127.0.0.1:9/wire.xml" }
outputs:
  - { id: everything, title: Everything }
`);
const paragraph = 'Officials said a joint statement would follow, and that working groups would meet again. '.repeat(40);
for (let n = 0; n < 30; n++) await publishing.add({ title: `Report ${n}`, sourceId: 'wire', contentHtml: `<p>${n} ${paragraph}</p>`, publishedAt: Date.UTC(2026, 0, 1) + n * 60_000 });

process.on('message', (message) => {
  if (message === 'stop') {
    void publishing.stop().then(() => process.disconnect());
    return;
  }
  void settled().then(() => {
    const { rss, heapUsed, external } = process.memoryUsage();
    // What the process keeps alive (V8's heap and the buffers outside it), beside what the allocator holds from the system.
    process.send!({ rss, retained: heapUsed + external });
  });
});

process.send!({ url: publishing.url });

/** Memory after full collections: V8 frees dead buffers' memory on a thread of its own, later on a busy machine. */
async function settled(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    globalThis.gc!();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
