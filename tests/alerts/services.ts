/**
 * Local services some alert tests need (Redis, Mosquitto). When one is
 * absent the test says why and skips, unless REQUIRE_SERVICES=1 (CI), where
 * its absence is a failure.
 */
import { connect } from 'node:net';

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** True when `name` answers on host:port; otherwise prints why (or throws under REQUIRE_SERVICES=1). */
export async function serviceAvailable(name: string, host: string, port: number): Promise<boolean> {
  if (await reachable(host, port)) return true;
  const why = `${name} is not reachable at ${host}:${port}`;
  if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`${why} (REQUIRE_SERVICES=1)`);
  console.warn(`SKIP: ${why}; these tests are skipped`);
  return false;
}

/** Deletes every Redis key matching `pattern` (one EVAL over a raw socket: the tests need no Redis client). */
export function deleteRedisKeys(host: string, port: number, pattern: string): Promise<void> {
  const script = "local k=redis.call('KEYS',ARGV[1]) for i=1,#k do redis.call('DEL',k[i]) end return #k";
  const args = ['EVAL', script, '0', pattern];
  const cmd = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(cmd));
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error('redis cleanup timed out'));
    });
    s.once('data', (d) => {
      s.destroy();
      if (d.toString().startsWith('-')) reject(new Error(`redis cleanup: ${d.toString().trim()}`));
      else resolve();
    });
    s.once('error', reject);
  });
}
