/**
 * A TCP proxy on loopback that a test can cut and restore: between a server under test and a service it
 * depends on (PostgreSQL), to take the service away while the server runs without touching the service
 * itself, which other tests share.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** 127.0.0.1:port, the address to give the server under test instead of the target's. */
  readonly port: number;
  /** Refuse new connections and drop every open one, both ways at once. */
  cut(): Promise<void>;
  /** Accept again, on the same port. */
  restore(): Promise<void>;
  /**
   * Once a connection's client sends `marker`, drop that connection (both ways) at the first later client
   * write that contains `then`, before it reaches the target, and then cut the proxy. Resolves when it has.
   */
  cutWhen(marker: string, then: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let trap: { marker: Buffer; then: Buffer; armed: WeakSet<Socket>; fired: () => void } | null = null;
  let port = 0;
  let server: Server | null = null;

  const drop = () => {
    for (const s of open) s.destroy();
    open.clear();
  };

  const accept = (client: Socket) => {
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      const t = trap;
      if (t) {
        if (t.armed.has(client) && chunk.includes(t.then)) {
          trap = null;
          end();
          void cut().then(t.fired);
          return;
        }
        if (chunk.includes(t.marker)) t.armed.add(client);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(accept);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const cut = async () => {
    const s = server;
    server = null;
    drop();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    async restore() {
      if (!server) await listen();
    },
    cutWhen(marker, then) {
      return new Promise<void>((fired) => {
        trap = { marker: Buffer.from(marker), then: Buffer.from(then), armed: new WeakSet(), fired };
      });
    },
    async close() {
      trap = null;
      await cut();
    },
  };
}
