/**
 * A throw-away redis-server of the test's own on a free loopback port, so a test can kill it (an outage) and
 * start it again on the same port without disturbing the machine's Redis or any other run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const REDIS_BIN = '/usr/bin/redis-server';

/** True when redis-server is installed; otherwise prints why the caller skips (or throws under REQUIRE_SERVICES=1). */
export function redisBinaryPresent(what: string): boolean {
  if (existsSync(REDIS_BIN)) return true;
  const why = `${REDIS_BIN} is absent`;
  if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`${why} (REQUIRE_SERVICES=1)`);
  console.warn(`SKIP: ${why}; ${what} is skipped`);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface OwnRedis {
  readonly url: string;
  /** Starts it (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL: an outage, nothing flushed. */
  kill(): Promise<void>;
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const c = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      child = c;
      let ok = false;
      const end = Date.now() + 5000;
      while (!ok && Date.now() < end && c.exitCode === null) {
        ok = await answers(port);
        if (!ok) await new Promise((r) => setTimeout(r, 50));
      }
      if (!ok) throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
    },
    async kill() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.pid === undefined) return;
      const gone = new Promise((r) => c.once('exit', r));
      process.kill(c.pid, 'SIGKILL');
      await gone;
    },
  };
}
