// Feeds for a cluster of pollers: many hosts on loopback (127.0.0.2, 127.0.0.3, …: every address of 127/8 is this
// machine), each serving several feeds that publish new items on every request, and a log of every request (which
// feed, when it started and ended) with the requests in flight per host at their highest. A few pairs of feeds on
// different hosts report the same stories in other words, so that cross-source dedup has something to join.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FeedRequest {
  feed: number;
  host: number;
  start: number;
  end: number;
}

export interface ClusterFeeds {
  /** The URL of feed f. */
  url(feed: number): string;
  /** Which host serves feed f. */
  hostOf(feed: number): number;
  requests: FeedRequest[];
  /** Requests in flight now, at each host. */
  inFlight: number[];
  /** The most requests in flight at once at each host, over the whole run. */
  maxInFlight: number[];
  /** Every item each feed has listed so far, by its link. */
  served: Set<string>[];
  /** The title of the pair's shared story, the same in both feeds of the pair (pairFeeds). */
  storyTitle(pair: number): string;
  /**
   * The two feeds that tell pair p's story: p and p + feeds / 2 + 1, on other hosts and far apart in the sources' order
   * (pollers claim due sources in id order, so neighbours would mostly go to one poller).
   */
  pairFeeds(pair: number): [number, number];
  close(): Promise<void>;
}

export interface ClusterFeedOptions {
  hosts: number;
  feeds: number;
  /** Pairs of feeds (see pairFeeds) that report the same story. */
  storyPairs: number;
  /** How long each answer takes: long enough for requests to overlap. */
  delayMs: number;
  /** New items per request, and how many of the latest a feed lists. */
  newPerRequest: number;
  listed: number;
}

/** A vocabulary of made-up words, so that two unrelated items share almost none and two reports of a story share most. */
function vocabulary(size: number): string[] {
  const syllables = ['ka', 'lo', 'mer', 'tis', 'van', 'dor', 'pel', 'su', 'rin', 'go', 'bat', 'ne', 'fol', 'zu', 'quar', 'mi'];
  const words: string[] = [];
  for (let i = 0; words.length < size; i++) {
    let n = i;
    let word = '';
    do {
      word += syllables[n % syllables.length];
      n = Math.floor(n / syllables.length);
    } while (n > 0);
    if (word.length >= 5) words.push(word);
  }
  return words;
}

const WORDS = vocabulary(3_000);

/** Deterministic words for a seed: the same seed, the same text. */
function wordsFor(seed: number, count: number): string[] {
  let state = (seed * 2_654_435_761) >>> 0 || 1;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return WORDS[(state >>> 0) % WORDS.length]!;
  });
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export async function startClusterFeeds(options: ClusterFeedOptions): Promise<ClusterFeeds> {
  const requests: FeedRequest[] = [];
  const inFlight = new Array<number>(options.hosts).fill(0);
  const maxInFlight = new Array<number>(options.hosts).fill(0);
  const polls = new Array<number>(options.feeds).fill(0);
  const served = Array.from({ length: options.feeds }, () => new Set<string>());
  const epoch = Date.now() - 3_600_000;
  const hostOf = (feed: number) => feed % options.hosts;
  const storyTitle = (pair: number) => `Story ${pair}: ${wordsFor(90_000 + pair, 6).join(' ')}`;
  const offset = Math.floor(options.feeds / 2) + 1;
  const pairFeeds = (pair: number): [number, number] => [pair, pair + offset];
  /** The pair whose story a feed tells and whether it is the second teller, or undefined. */
  const pairOf = (feed: number): { pair: number; second: boolean } | undefined =>
    feed < options.storyPairs ? { pair: feed, second: false } : feed >= offset && feed - offset < options.storyPairs ? { pair: feed - offset, second: true } : undefined;

  const servers: http.Server[] = [];
  const ports: number[] = [];
  for (let host = 0; host < options.hosts; host++) {
    const server = http.createServer((req, res) => {
      const feed = Number(/^\/feed-(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? -1);
      if (!(feed >= 0 && feed < options.feeds) || hostOf(feed) !== host) {
        res.writeHead(404).end();
        return;
      }
      const start = Date.now();
      inFlight[host]!++;
      maxInFlight[host] = Math.max(maxInFlight[host]!, inFlight[host]!);
      const poll = ++polls[feed]!;
      const newest = poll * options.newPerRequest;
      const items: string[] = [];
      for (let k = newest; k > Math.max(0, newest - options.listed); k--) {
        const link = `https://feed${feed}.example/items/${k}`;
        served[feed]!.add(link);
        items.push(
          `<item><title>${escape(`Feed ${feed} item ${k} ${wordsFor(feed * 100_000 + k, 5).join(' ')}`)}</title><link>${link}</link><guid>${link}</guid>` +
            `<pubDate>${new Date(epoch + k * 1_000 + feed).toUTCString()}</pubDate>` +
            `<description>${escape(wordsFor(feed * 100_000 + k + 50_000, 40).join(' '))}</description></item>`,
        );
      }
      const teller = pairOf(feed);
      if (teller) {
        // The pair's story, told by each feed in its own words: the same body, a few words changed and the order of
        // its two halves swapped.
        const { pair, second } = teller;
        const body = wordsFor(80_000 + pair, 48);
        const told = second ? [...body.slice(24), ...body.slice(0, 24)].map((w, i) => (i % 9 === 4 ? wordsFor(70_000 + pair * 50 + i, 1)[0]! : w)) : body;
        const link = `https://feed${feed}.example/story/${pair}`;
        served[feed]!.add(link);
        items.push(
          `<item><title>${escape(storyTitle(pair))}</title><link>${link}</link><guid>${link}</guid>` +
            `<pubDate>${new Date(epoch + (second ? 60_000 : 0)).toUTCString()}</pubDate><description>${escape(told.join(' '))}</description></item>`,
        );
      }
      const body = `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed ${feed}</title><link>https://feed${feed}.example/</link>${items.join('')}</channel></rss>`;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        res.end(body, () => {
          inFlight[host]!--;
          requests.push({ feed, host, start, end: Date.now() });
        });
      }, options.delayMs);
      // A client that goes away (a poller killed) still ends the request here.
      res.on('close', () => {
        if (!res.writableFinished) {
          inFlight[host]!--;
          requests.push({ feed, host, start, end: Date.now() });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, `127.0.0.${host + 2}`, resolve);
    });
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return {
    url: (feed) => `http://127.0.0.${hostOf(feed) + 2}:${ports[hostOf(feed)]}/feed-${feed}.xml`,
    hostOf,
    requests,
    inFlight,
    maxInFlight,
    served,
    storyTitle,
    pairFeeds,
    close: async () => {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
