import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClipStore, type ClipParams, type RunProcess } from './clips.ts';
import { checkAuthorization } from './http-auth.ts';
import { createHash } from 'node:crypto';

const dir = mkdtempSync(path.join(tmpdir(), 'sim-clipstore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A tiny but valid Annex-B stream: SPS, PPS, one IDR slice.
const STREAM = Buffer.from(
  '000000016742c028da01e0089f97011000000300100000030320f1832a0000000168ce3c80000000016588840021ff',
  'hex',
);

function fakeFfmpeg() {
  let running = 0;
  let peak = 0;
  let killed = 0;
  const pending: Array<() => void> = [];
  const run: RunProcess = (_cmd, args) => {
    running++;
    peak = Math.max(peak, running);
    let settle!: (ok: boolean) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (ok) => {
        running--;
        if (ok) {
          writeFileSync(args.at(-1)!, STREAM);
          resolve();
        } else reject(new Error('killed'));
      };
    });
    pending.push(() => settle(true));
    return {
      done,
      kill: () => {
        killed++;
        settle(false);
      },
    };
  };
  return { run, pending, stats: () => ({ running, peak, killed }) };
}

const params = (i: number): ClipParams => ({
  code: `3411260001132000000${i}`,
  caption: 'x',
  stream: 'main',
  profile: { width: 320, height: 180, fps: 25, bitrateKbps: 300 },
  gopFrames: 25,
  seconds: 2,
  hue: 0,
});

describe('clip store', () => {
  it('runs at most two encoders at once; others wait; results are cached on disk', async () => {
    const f = fakeFfmpeg();
    const store = new ClipStore({ dir, run: f.run });
    const all = [0, 1, 2, 3, 4].map((i) => store.acquire(params(i)));
    const again = store.acquire(params(0)); // same clip: shares the first encode
    let settled = false;
    const everything = Promise.all([...all, again]).finally(() => (settled = true));
    for (let n = 0; n < 400 && !settled; n++) {
      await new Promise((r) => setTimeout(r, 5));
      f.pending.splice(0).forEach((go) => go());
    }
    const clips = await everything;
    expect(clips.every((c) => c.aus.length === 1 && c.info.width === 1920)).toBe(true);
    expect(f.stats().peak).toBe(2);
    expect(store.encodes).toBe(5);
    expect(readdirSync(dir).filter((n) => n.endsWith('.h264'))).toHaveLength(5);
    const fresh = new ClipStore({ dir, run: f.run });
    await fresh.acquire(params(3));
    expect(fresh.encodes).toBe(0);
  });

  it('kills running encoders and fails queued ones on stop', async () => {
    const f = fakeFfmpeg();
    const store = new ClipStore({ dir, run: f.run });
    const jobs = [5, 6, 7].map((i) => store.acquire(params(i)).catch((e: Error) => e.message));
    await new Promise((r) => setTimeout(r, 20));
    store.stop();
    expect(await Promise.all(jobs)).toEqual(['killed', 'killed', 'simulator stopped']);
    expect(f.stats().killed).toBe(2);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toHaveLength(0);
  });
});

describe('HTTP/RTSP credentials', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  it('checks Basic and Digest, with and without qop', () => {
    const basic = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
    expect(checkAuthorization(basic, 'GET', 'admin', 'pw')).toBe('ok');
    expect(checkAuthorization(basic, 'GET', 'admin', 'other')).toBe('bad');
    expect(checkAuthorization(undefined, 'GET', 'admin', 'pw')).toBe('absent');
    const ha1 = md5('admin:IP Camera(12345):pw');
    const ha2 = md5('DESCRIBE:rtsp://127.0.1.1:8554/Streaming/Channels/101');
    const plain = `Digest username="admin", realm="IP Camera(12345)", nonce="abc", uri="rtsp://127.0.1.1:8554/Streaming/Channels/101", response="${md5(`${ha1}:abc:${ha2}`)}"`;
    expect(checkAuthorization(plain, 'DESCRIBE', 'admin', 'pw')).toBe('ok');
    expect(checkAuthorization(plain, 'DESCRIBE', 'admin', 'pw2')).toBe('bad');
    const qop = `Digest username="admin",realm="IP Camera(12345)",nonce="abc",uri="rtsp://127.0.1.1:8554/Streaming/Channels/101",qop=auth,nc=00000001,cnonce="c1",response="${md5(`${ha1}:abc:00000001:c1:auth:${ha2}`)}"`;
    expect(checkAuthorization(qop, 'DESCRIBE', 'admin', 'pw')).toBe('ok');
  });
});
