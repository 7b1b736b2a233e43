import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClipStore, placeholderParams, type ClipParams, type RunProcess } from './clips.ts';
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
  const started: Array<{ cmd: string; out: string }> = [];
  const run: RunProcess = (cmd, args) => {
    started.push({ cmd, out: path.basename(args.at(-1)!) });
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
  return { run, pending, started, stats: () => ({ running, peak, killed }) };
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
    expect((await Promise.all(jobs)).sort()).toEqual(['killed', 'killed', 'simulator stopped']);
    expect(f.stats().killed).toBe(2);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toHaveLength(0);
  });
});

describe('clip store priorities', () => {
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('placeholders first, then on-demand, prewarm last (niced, one at a time); a PLAY promotes a queued prewarm clip', async () => {
    const f = fakeFfmpeg();
    const store = new ClipStore({ dir: path.join(dir, 'prio'), run: f.run, maxConcurrent: 2, nice: 'NICE' });
    const who = (i: number) => params(i).code;
    const warm = store.prewarm([10, 11, 12, 13].map(params));
    await settle();
    // One prewarm encoder (its limit), the other slot free.
    expect(f.started.map((s) => s.out.split('-')[0])).toEqual([who(10)]);
    expect(f.started[0]!.cmd).toBe('NICE');
    const a20 = store.acquire(params(20));
    await settle();
    const a21 = store.acquire(params(21));
    const ph = store.placeholder(placeholderParams(params(0).profile, 25, 2));
    const a12 = store.acquire(params(12)); // queued for prewarm: moves up to the on-demand queue
    await settle();
    expect(store.stats()).toMatchObject({ ffmpegRunning: 2, ffmpegQueued: 3, prewarmRunning: 1, prewarmQueued: 2 });
    // Let the encoders finish one at a time, in the order they started.
    let finished = false;
    const all = Promise.all([a20, a21, ph, a12, warm]).finally(() => (finished = true));
    for (let n = 0; n < 200 && !finished; n++) {
      f.pending.shift()?.();
      await settle();
    }
    await all;
    expect(await warm).toEqual({ encoded: 4, cached: 0, failed: 0 }); // 12 among them, on demand
    const runs = f.started.map((s) => (s.out.startsWith('placeholder') ? 'ph' : s.out.split('-')[0]));
    // 12, asked for by prewarm before 21 was, keeps its place in the on-demand queue; prewarm goes on after.
    expect(runs).toEqual([who(10), who(20), 'ph', who(12), who(21), who(11), who(13)]);
    expect(f.started.map((s) => s.cmd)).toEqual(['NICE', 'ffmpeg', 'ffmpeg', 'ffmpeg', 'ffmpeg', 'NICE', 'NICE']);
    expect(store.stats()).toMatchObject({ ffmpegRunning: 0, ffmpegQueued: 0, prewarmRunning: 0, prewarmQueued: 0 });
    expect(store.placeholderNow(placeholderParams(params(0).profile, 25, 2))).toBeDefined();
  });

  it('an on-demand encode whose viewers all left drops to the background; asking again brings it back', async () => {
    const f = fakeFfmpeg();
    const store = new ClipStore({ dir: path.join(dir, 'prio-abandon'), run: f.run, maxConcurrent: 1, nice: 'NICE' });
    const who = (i: number) => params(i).code;
    const [c41, c42, c43] = [new AbortController(), new AbortController(), new AbortController()];
    const jobs = [store.acquire(params(40))];
    await settle(); // 40 holds the one slot
    jobs.push(
      store.acquire(params(41), c41.signal),
      store.acquire(params(42), c42.signal),
      store.acquire(params(43), c43.signal),
    );
    await settle();
    expect(store.stats()).toMatchObject({ ffmpegRunning: 1, ffmpegQueued: 3, prewarmQueued: 0 });
    c41.abort(); // a health probe that got its first packet and left
    c43.abort();
    expect(store.stats()).toMatchObject({ ffmpegQueued: 1, prewarmQueued: 2 });
    jobs.push(store.acquire(params(43))); // someone opens 43 after all
    expect(store.stats()).toMatchObject({ ffmpegQueued: 2, prewarmQueued: 1 });
    let finished = false;
    const all = Promise.all(jobs).finally(() => (finished = true));
    for (let n = 0; n < 200 && !finished; n++) {
      f.pending.shift()?.();
      await settle();
    }
    await all; // every promise settles, abandoned or not
    expect(f.started.map((s) => s.out.split('-')[0])).toEqual([who(40), who(42), who(43), who(41)]);
    expect(f.started.map((s) => s.cmd)).toEqual(['ffmpeg', 'ffmpeg', 'ffmpeg', 'NICE']);
  });

  it('stop() resolves once running encoders are gone and fails queued prewarm', async () => {
    const f = fakeFfmpeg();
    const store = new ClipStore({ dir: path.join(dir, 'prio-stop'), run: f.run, nice: null });
    const warm = store.prewarm([30, 31, 32].map(params));
    await settle();
    expect(f.stats().running).toBe(1);
    await store.stop();
    expect(f.stats()).toMatchObject({ running: 0, killed: 1 });
    expect(await warm).toEqual({ encoded: 0, cached: 0, failed: 3 });
    expect(f.started.map((s) => s.cmd)).toEqual(['ffmpeg']);
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
