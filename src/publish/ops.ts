// The operators' endpoints beside the feeds: /readyz (can this instance do its job) and /metrics
// (Prometheus), and the count of every request the server answers. Plugged into the server's intercept hook.
import type http from 'node:http';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

export interface OpsContext {
  store: Store;
  /** The scheduler, in a process that polls (a web replica has none to check). */
  scheduler: { readonly running: boolean } | undefined;
  metrics: Metrics;
  log: Logger;
}

export interface Readiness {
  ready: boolean;
  checks: { database: boolean; migrations: boolean; scheduler?: boolean };
}

export async function readiness(ctx: Pick<OpsContext, 'store' | 'scheduler'>): Promise<Readiness> {
  const health = await ctx.store.health();
  const checks = {
    database: health.open,
    migrations: health.schemaCurrent,
    ...(ctx.scheduler ? { scheduler: ctx.scheduler.running } : {}),
  };
  return { ready: Object.values(checks).every(Boolean), checks };
}

/** Counts every request, and answers /readyz and /metrics itself; returns whether it answered. */
export function opsRoutes(ctx: OpsContext): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    res.once('finish', () => ctx.metrics.observeRequest(path, res.statusCode));
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/readyz') {
      readiness(ctx).then(
        (state) => send(req, res, state.ready ? 200 : 503, 'application/json', `${JSON.stringify({ status: state.ready ? 'ready' : 'not ready', ...state.checks })}\n`),
        (err: unknown) => {
          ctx.log.error({ err }, 'readiness check failed');
          send(req, res, 503, 'application/json', `${JSON.stringify({ status: 'not ready', database: false, migrations: false, ...(ctx.scheduler ? { scheduler: ctx.scheduler.running } : {}) })}\n`);
        },
      );
      return true;
    }
    if (path === '/metrics') {
      ctx.metrics.render().then(
        (text) => send(req, res, 200, ctx.metrics.registry.contentType, text),
        (err: unknown) => {
          ctx.log.error({ err }, 'metrics failed');
          send(req, res, 500, 'text/plain; charset=utf-8', 'metrics failed\n');
        },
      );
      return true;
    }
    return false;
  };
}

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
