import { isIPv4 } from 'node:net';

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * Expands an IPv4 address, `a.b.c.d/nn` block or `a.b.c.d-a.b.c.e` range into
 * host addresses (network and broadcast addresses of blocks under /31 left out).
 * Throws with a reason a user can act on.
 */
export function expandRange(spec: string, maxHosts: number): string[] {
  const s = spec.trim();
  let first: number;
  let last: number;
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
  const dash = /^(\d{1,3}(?:\.\d{1,3}){3})\s*-\s*(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (cidr) {
    const [, ip = '', bitsRaw = ''] = cidr;
    const bits = Number(bitsRaw);
    if (!isIPv4(ip) || bits < 8 || bits > 32) throw new Error(`"${s}" is not an IPv4 block between /8 and /32`);
    const size = 2 ** (32 - bits);
    first = Math.floor(toInt(ip) / size) * size;
    last = first + size - 1;
    if (bits < 31) {
      first++;
      last--;
    }
  } else if (dash) {
    const [, a = '', b = ''] = dash;
    if (!isIPv4(a) || !isIPv4(b)) throw new Error(`"${s}" is not an IPv4 range`);
    first = toInt(a);
    last = toInt(b);
    if (last < first) throw new Error(`"${s}": the range ends before it starts`);
  } else if (isIPv4(s)) {
    first = last = toInt(s);
  } else {
    throw new Error(`"${s}" is not an IPv4 address, block (a.b.c.d/nn) or range (a.b.c.d-a.b.c.e)`);
  }
  const count = last - first + 1;
  if (count > maxHosts) throw new Error(`"${s}" holds ${count} addresses; at most ${maxHosts} per scan`);
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(toIp(n));
  return out;
}

export function isLoopback(ip: string): boolean {
  return isIPv4(ip) ? ip.startsWith('127.') : ip === '::1';
}
