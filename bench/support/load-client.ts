// The load generator for bench/serve.ts, in its own process so that it never competes with the server
// for the server's event loop: autocannon, given its options as JSON on stdin; prints its figures as JSON.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';

export interface LoadOptions {
  /** URLs to cycle through (one URL: the same request every time). */
  urls: string[];
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Return every response's latency too (to merge loads run at once into one distribution). */
  samples?: boolean;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
  /** Each response's latency in ms, when asked for. */
  latenciesMs?: number[];
}

/** Runs one load in a child process and waits for its figures. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--child'], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end(JSON.stringify(options));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load client exited ${code}`))));
  });
}

async function main(options: LoadOptions): Promise<void> {
  const first = new URL(options.urls[0]!);
  let next = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: first.origin,
        connections: options.connections,
        duration: options.durationSeconds,
        headers: options.headers,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              const url = new URL(options.urls[next++ % options.urls.length]!);
              return { ...request, path: `${url.pathname}${url.search}` };
            },
          },
        ],
      },
      (err: Error | null, done: autocannon.Result) => (err ? reject(err) : resolve(done)),
    );
    if (options.samples) instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  const statuses: Record<string, number> = {};
  for (const key of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) statuses[key] = result[key];
  const figures: LoadResult = {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts + result.non2xx - result['3xx'],
    ...(options.samples ? { latenciesMs: latencies } : {}),
  };
  process.stdout.write(JSON.stringify(figures));
}

if (process.argv[1] === import.meta.filename && process.argv[2] === '--child') {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  await main(JSON.parse(Buffer.concat(chunks).toString()) as LoadOptions);
}
