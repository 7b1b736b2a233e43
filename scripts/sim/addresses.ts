/**
 * Loopback address blocks claimed for one run (issue 12, item 12): tests used fixed addresses (the demo's
 * 127.0.1.x among them), so `npm test` failed while `npm start` ran, and two runs could not share a machine.
 *
 * A block is a /24 of 127.0.0.0/8 away from the demo's 127.0.x.y, picked at random and claimed by listening on
 * its `.254` at `LOCK_PORT`: another run that picks the same block finds the lock taken and moves on. The lock
 * is held until `release()` or the end of the process (the kernel closes it even after kill -9), so a crashed
 * run frees its block at once. Addresses `.1`–`.253` are for cameras and for addresses that must stay silent.
 */
import net from 'node:net';

export const LOCK_PORT = 47_127;

export interface LoopbackBlock {
  /** `127.a.b` */
  readonly prefix: string;
  /** `127.a.b.i`, i in 1–253. */
  host(i: number): string;
  /** `127.a.b.0/24`, for a scan of the whole block. */
  readonly cidr: string;
  release(): Promise<void>;
}

function tryLock(host: string): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', () => resolve(null));
    s.listen({ host, port: LOCK_PORT, exclusive: true }, () => {
      s.unref();
      resolve(s);
    });
  });
}

/** Claims a free /24 block in 127.100.0.0 – 127.239.255.255. */
export async function claimLoopbackBlock(random: () => number = Math.random): Promise<LoopbackBlock> {
  for (let i = 0; i < 200; i++) {
    const prefix = `127.${100 + Math.floor(random() * 140)}.${Math.floor(random() * 256)}`;
    const lock = await tryLock(`${prefix}.254`);
    if (!lock) continue;
    let released = false;
    return {
      prefix,
      cidr: `${prefix}.0/24`,
      host(n) {
        if (!Number.isInteger(n) || n < 1 || n > 253) throw new Error(`host ${n} is outside 1–253`);
        return `${prefix}.${n}`;
      },
      release() {
        if (released) return Promise.resolve();
        released = true;
        return new Promise((r) => lock.close(() => r()));
      },
    };
  }
  throw new Error('no free loopback block after 200 tries');
}
