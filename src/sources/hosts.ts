// Politeness towards the sites we poll: at most `perHost` requests at once to one host:port, a minimum
// gap between the starts of two requests to it, a cap on all requests in flight, and a host's
// Retry-After honoured by every request to that host:port (and only to it).
// Waiting requests start in arrival order, except that one waiting for a busy host never holds up
// another whose host is free: one slow or strict site cannot stall the others. In a cluster, a request this
// process lets go then needs a slot of the cluster's too (SharedHosts: per_host, the gap and Retry-After held for all
// pollers of the database).

export interface HostLimits {
  /** Requests in flight across all hosts. */
  concurrency: number;
  /** Requests in flight to one host:port. */
  perHost: number;
  /** Least time between the starts of two requests to one host:port. */
  minGapMs: number;
}

/** The limits a config sets. */
export function hostLimits(config: { fetch: { concurrency: number; per_host: number; host_gap: number } }): HostLimits {
  return { concurrency: config.fetch.concurrency, perHost: config.fetch.per_host, minGapMs: config.fetch.host_gap };
}

/** A slot to send one request (call release when its body is read), or the time a host asked us to wait until. */
export type Grant = { release: () => void } | { blockedUntil: number };

/**
 * Politeness shared with the other processes polling the same database (the store's cluster host slots): asked for
 * each request after this process let it go.
 */
export interface SharedHosts {
  /** A slot at this host:port for the whole cluster (release it when the body is read), or when to ask again (`blocked`: a Retry-After). */
  acquire(key: string, limits: Pick<HostLimits, 'perHost' | 'minGapMs'>, now: number): Promise<{ release: () => void } | { retryAt: number; blocked?: boolean }>;
  /** Tells every process of a host's Retry-After. */
  block(key: string, until: number): void;
}

/** A local grant, with when it started and a way to give it back as if it had not started (the cluster said not yet). */
interface LocalGrant {
  release: () => void;
  at: number;
  undo: () => void;
}

interface Host {
  active: number;
  lastStart: number;
  blockedUntil: number;
}

interface Waiter {
  key: string;
  resolve: (grant: LocalGrant | { blockedUntil: number }) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The key politeness is kept under: the host and its port, so two services on one name stay apart. */
export function hostKey(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

export class HostLimiter {
  private readonly limits: () => HostLimits;
  private readonly shared: SharedHosts | undefined;
  private readonly hosts = new Map<string, Host>();
  private readonly waiters: Waiter[] = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** The end of the latest Retry-After of any host: until then a full limiter still has waiters to answer. */
  private lastBlockEnds = 0;

  /** `limits` is read on every decision, so a config reload applies at once; `shared` is the cluster's side, if any. */
  constructor(limits: () => HostLimits, shared?: SharedHosts) {
    this.limits = limits;
    this.shared = shared;
  }

  acquire(url: URL, signal?: AbortSignal): Promise<Grant> {
    return this.shared ? this.acquireShared(url, this.shared, signal) : this.local(url, signal);
  }

  /** This process's turn, then the cluster's slot; while the cluster says not yet, the turn is given back and asked for again then. */
  private async acquireShared(url: URL, shared: SharedHosts, signal: AbortSignal | undefined): Promise<Grant> {
    const key = hostKey(url);
    for (;;) {
      const grant = await this.local(url, signal);
      if (!('release' in grant)) return grant;
      let answer;
      try {
        answer = await shared.acquire(key, this.limits(), grant.at);
      } catch (err) {
        grant.undo();
        throw err;
      }
      if ('release' in answer) {
        const release = answer.release;
        return {
          release: () => {
            release();
            grant.release();
          },
        };
      }
      grant.undo();
      if (answer.blocked) {
        this.blockHere(key, answer.retryAt);
        return { blockedUntil: answer.retryAt };
      }
      await sleep(answer.retryAt - Date.now(), signal);
    }
  }

  private local(url: URL, signal?: AbortSignal): Promise<LocalGrant | { blockedUntil: number }> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const waiter: Waiter = {
        key: hostKey(url),
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.remove(waiter);
          reject(signal!.reason as Error);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** A host:port answered 429 or 503 with Retry-After: nothing is sent to it before `until` (by any process of the cluster). */
  block(url: URL, until: number): void {
    this.blockHere(hostKey(url), until);
    this.shared?.block(hostKey(url), until);
  }

  private blockHere(key: string, until: number): void {
    const host = this.host(key);
    host.blockedUntil = Math.max(host.blockedUntil, until);
    this.lastBlockEnds = Math.max(this.lastBlockEnds, until);
    this.pump();
  }

  blockedUntil(url: URL): number | undefined {
    const until = this.hosts.get(hostKey(url))?.blockedUntil ?? 0;
    return until > Date.now() ? until : undefined;
  }

  private host(key: string): Host {
    let host = this.hosts.get(key);
    if (!host) {
      host = { active: 0, lastStart: -Infinity, blockedUntil: 0 };
      this.hosts.set(key, host);
    }
    return host;
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  /** Starts every waiter that may start now, in order; wakes up again when the next host gap ends. */
  private pump(): void {
    const { concurrency, perHost, minGapMs } = this.limits();
    const now = Date.now();
    if (this.active >= concurrency && this.lastBlockEnds <= now) return;
    let wakeAt = Infinity;
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const host = this.host(waiter.key);
      if (host.blockedUntil > now) {
        this.remove(waiter);
        waiter.resolve({ blockedUntil: host.blockedUntil });
        continue;
      }
      const readyAt = host.lastStart + minGapMs;
      if (this.active >= concurrency || host.active >= perHost || readyAt > now) {
        if (host.active < perHost) wakeAt = Math.min(wakeAt, readyAt);
        i++;
        continue;
      }
      this.remove(waiter);
      host.active++;
      this.active++;
      const previousStart = host.lastStart;
      host.lastStart = now;
      const release = this.releaser(host);
      waiter.resolve({
        release,
        at: now,
        undo: () => {
          if (host.lastStart === now) host.lastStart = previousStart;
          release();
        },
      });
    }
    this.wakeAt(wakeAt);
    if (this.hosts.size > 4096) this.forgetIdle(now, minGapMs);
  }

  private releaser(host: Host): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      host.active--;
      this.active--;
      this.pump();
    };
  }

  private wakeAt(at: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(at - Date.now(), 0));
  }

  private forgetIdle(now: number, minGapMs: number): void {
    for (const [key, host] of this.hosts) {
      if (host.active === 0 && host.lastStart + minGapMs <= now && host.blockedUntil <= now) this.hosts.delete(key);
    }
  }
}

/** Waits `ms`, or rejects when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(ms, 1));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
