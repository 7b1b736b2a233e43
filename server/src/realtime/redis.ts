import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { Logger } from '../http/logger.ts';

export interface RedisFanout {
  /** Socket.IO adapter factory: pass to `io.adapter()`. */
  adapter: ReturnType<typeof createAdapter>;
  /**
   * Called with `false` when pushes may stop reaching other processes (the connection broke, or a publish
   * failed) and with `true` once Redis answers again. Each change is reported once.
   */
  onHealth(listener: (up: boolean) => void): void;
  close(): Promise<void>;
}

/**
 * Connects to Redis and builds the Socket.IO Redis Streams adapter, so
 * several server processes share pushes (and recovered sessions). The
 * Streams adapter is preferred over the pub/sub one because a stream keeps
 * what was added while a node's connection to Redis was down; node-redis
 * reconnects on its own. If Redis cannot be reached at start-up the caller
 * stays in-process rather than refusing to start.
 */
export async function connectRedisFanout(opts: {
  url: string;
  keyPrefix: string;
  log: Logger;
  connectTimeoutMs?: number;
}): Promise<RedisFanout | null> {
  const client = createClient({
    url: opts.url,
    socket: { connectTimeout: opts.connectTimeoutMs ?? 3000, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 5000) },
  });
  let lastError = '';
  let up = true;
  const listeners: ((up: boolean) => void)[] = [];
  const setUp = (now: boolean) => {
    if (now === up) return;
    up = now;
    for (const l of listeners) l(now);
  };
  // An unhandled 'error' would crash the process; a lost Redis costs only the fan-out.
  client.on('error', (err: unknown) => {
    const msg = String(err);
    if (msg !== lastError) opts.log.warn('redis error', { err: msg });
    lastError = msg;
    setUp(false);
  });
  client.on('ready', () => {
    if (lastError) opts.log.info('redis reconnected');
    lastError = '';
    setUp(true);
  });
  const timeout = opts.connectTimeoutMs ?? 3000;
  const connected = await Promise.race([
    client.connect().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeout).unref()),
  ]);
  if (!connected) {
    // The logger masks the URL's password.
    opts.log.error('redis unreachable: Socket.IO stays in-process', { url: opts.url });
    client.destroy();
    return null;
  }
  const base = createAdapter(client, {
    streamName: `${opts.keyPrefix}:socket.io`,
    channelPrefix: `${opts.keyPrefix}:socket.io`,
    sessionKeyPrefix: `${opts.keyPrefix}:sio:session:`,
    // Alert payloads are JSON; skipping the binary scan saves work per push.
    onlyPlaintext: true,
    blockTimeInMs: 1000,
  });
  // The cluster adapter awaits its XADD before emitting locally, and node-redis queues commands
  // while disconnected: without this, a lost Redis would hold back pushes to this process's own
  // clients until Redis returned. Publishing fails fast instead (not ready, or no answer within
  // PUBLISH_TIMEOUT_MS), the adapter logs it and emits locally. Other processes miss that push;
  // their clients catch up by replay from the cursor (GET /alerts?since=).
  // A plain function, not an arrow: Socket.IO calls the factory with `new`.
  const adapter = function (nsp: Parameters<typeof base>[0]) {
    const a = base(nsp) as ReturnType<typeof base> & { doPublish(m: unknown): Promise<string> };
    const publish = a.doPublish.bind(a);
    a.doPublish = (m) => {
      const sent = client.isReady ? withTimeout(publish(m), PUBLISH_TIMEOUT_MS) : Promise.reject(notReady());
      // A failed publish is an outage even while the connection looks open (a Redis that stopped answering);
      // the next one that goes through ends it.
      sent.then(
        () => setUp(true),
        () => setUp(false),
      );
      return sent;
    };
    return a;
  } as typeof base;
  return {
    adapter,
    onHealth: (l) => void listeners.push(l),
    async close() {
      // The adapter's own duplicated clients close with io.close(); this is the publishing one.
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}

const PUBLISH_TIMEOUT_MS = 500;

const notReady = () => new Error('redis not ready: pushing in-process only');

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis publish timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
