/**
 * claimLoopbackBlock (issue 12, item 12): the /24 a run's simulated cameras live on. Two claims, in one process
 * or in two, never hold the same block; a block comes free on release() and when its process ends, even by
 * kill -9; a held block does not keep its process alive. The random source is given so that a claim can be
 * pointed at a block that is already taken.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_PORT, claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';

/** Released after each test (release() again on a released block does nothing). */
const held: LoopbackBlock[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(held.splice(0).map((b) => b.release()));
});

const claim = async (random?: () => number) => {
  const b = await claimLoopbackBlock(random);
  held.push(b);
  return b;
};

/** The two draws that make claimLoopbackBlock pick `127.a.b` (a in 100–239, b in 0–255). */
function drawsFor(prefix: string): [number, number] {
  const [, a, b] = prefix.split('.').map(Number) as [number, number, number];
  return [(a - 100 + 0.5) / 140, (b + 0.5) / 256];
}

/** A random source that gives `values` first, then Math.random; counts how many draws were asked for. */
function scripted(values: number[]) {
  let i = 0;
  const r = () => (i < values.length ? values[i++]! : (i++, Math.random()));
  return Object.assign(r, { draws: () => i });
}

const ADDRESSES_URL = new URL('./addresses.ts', import.meta.url).href;

/**
 * Another process that claims `target` (or whatever comes free after it), prints the prefix it holds and keeps
 * it until killed.
 */
async function claimInChild(target: string): Promise<{ child: ChildProcessWithoutNullStreams; prefix: string }> {
  const [ra, rb] = drawsFor(target);
  const code =
    `const { claimLoopbackBlock } = await import(${JSON.stringify(ADDRESSES_URL)});` +
    `const v = [${ra}, ${rb}]; let i = 0;` +
    `const b = await claimLoopbackBlock(() => (i < v.length ? v[i++] : Math.random()));` +
    `process.stdout.write(b.prefix + '\\n');` +
    `setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'pipe' });
  children.push(child);
  const prefix = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (c) => reject(new Error(`child exited (${c}) before claiming: ${err}`)));
  });
  return { child, prefix };
}

const answers = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('claimLoopbackBlock', () => {
  it('gives a /24 in 127.100.0.0 – 127.239.255.255 with hosts .1–.253 and its CIDR', async () => {
    const b = await claim();
    expect(b.prefix).toMatch(/^127\.\d{1,3}\.\d{1,3}$/);
    const [, a, c] = b.prefix.split('.').map(Number) as [number, number, number];
    expect(a).toBeGreaterThanOrEqual(100);
    expect(a).toBeLessThanOrEqual(239);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThanOrEqual(255);
    expect(b.cidr).toBe(`${b.prefix}.0/24`);
    expect(b.host(1)).toBe(`${b.prefix}.1`);
    expect(b.host(253)).toBe(`${b.prefix}.253`);
    for (const bad of [0, 254, 255, -1, 1.5, Number.NaN]) expect(() => b.host(bad)).toThrow(/outside 1–253/);
    // The ends of the range: the smallest and the largest draws.
    const low = await claim(scripted([0, 0]));
    expect(low.prefix).toBe('127.100.0');
    const high = await claim(scripted([0.999_999, 0.999_999]));
    expect(high.prefix).toBe('127.239.255');
  });

  it('never gives one block twice in one process, even when drawn again, nor to claims made at once', async () => {
    const first = await claim();
    const r = scripted(drawsFor(first.prefix));
    const second = await claim(r);
    expect(second.prefix).not.toBe(first.prefix);
    expect(r.draws()).toBeGreaterThan(2); // it drew the taken block, then moved on
    // Many claims in flight together, all pointed at the same free block first: one gets it, each a block of its own.
    const target = await claim();
    await target.release();
    const together = await Promise.all(Array.from({ length: 8 }, () => claim(scripted(drawsFor(target.prefix)))));
    const prefixes = together.map((b) => b.prefix);
    expect(new Set(prefixes).size).toBe(8);
    expect(prefixes.filter((p) => p === target.prefix)).toHaveLength(1);
    expect(prefixes).not.toContain(first.prefix);
    expect(prefixes).not.toContain(second.prefix);
  });

  it('holds the block by listening on its .254 at LOCK_PORT until release(), which may be called twice', async () => {
    const b = await claim();
    expect(await answers(`${b.prefix}.254`, LOCK_PORT)).toBe(true);
    await b.release();
    await b.release();
    expect(await answers(`${b.prefix}.254`, LOCK_PORT)).toBe(false);
  });

  it('gives a released block again', async () => {
    const b = await claim();
    await b.release();
    const again = await claim(scripted(drawsFor(b.prefix)));
    expect(again.prefix).toBe(b.prefix);
  });

  it('gives up after 200 draws of taken blocks', async () => {
    const b = await claim();
    const [ra, rb] = drawsFor(b.prefix);
    let i = 0;
    await expect(claimLoopbackBlock(() => (i++ % 2 === 0 ? ra : rb))).rejects.toThrow(
      /no free loopback block after 200 tries/,
    );
  });

  it('never gives a block another process holds, and gives it again once that process is killed', async () => {
    const mine = await claim();
    await mine.release();
    const { child, prefix } = await claimInChild(mine.prefix);
    expect(prefix).toBe(mine.prefix);

    const r = scripted(drawsFor(prefix));
    const other = await claim(r);
    expect(other.prefix).not.toBe(prefix);
    expect(r.draws()).toBeGreaterThan(2);
    // And the other way round: the child cannot take a block this process holds.
    const { prefix: childSecond } = await claimInChild(other.prefix);
    expect(childSecond).not.toBe(other.prefix);
    expect(childSecond).not.toBe(prefix);

    // kill -9: no release() ran, the kernel closes the lock.
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    const back = await claim(scripted(drawsFor(prefix)));
    expect(back.prefix).toBe(prefix);
  });

  it('does not keep its process alive, and the block is free when the process ends', async () => {
    const b = await claim();
    await b.release();
    const [ra, rb] = drawsFor(b.prefix);
    const code =
      `const { claimLoopbackBlock } = await import(${JSON.stringify(ADDRESSES_URL)});` +
      `const v = [${ra}, ${rb}]; let i = 0;` +
      `const held = await claimLoopbackBlock(() => (i < v.length ? v[i++] : Math.random()));` +
      `process.stdout.write(held.prefix);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(b.prefix);
    const again = await claim(scripted(drawsFor(b.prefix)));
    expect(again.prefix).toBe(b.prefix);
  });
});
