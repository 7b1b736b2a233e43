/**
 * Picture diagnosis without a camera: the sample's ffmpeg arguments as a table, each measure on pictures made
 * here, the judge's thresholds and what hides what, and the sampler driven by a fake ffmpeg (frames, refusals,
 * garbage, a deadline).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFakeClock, createFakeRunner } from '../fakes.ts';
import { buildSampleArgs } from './args.ts';
import { createPictureDiagnoser, failureOf } from './diagnose.ts';
import { DEFAULT_THRESHOLDS, judgePicture } from './judge.ts';
import {
  ANALYSIS_HEIGHT as H,
  ANALYSIS_WIDTH as W,
  blockGrid,
  blurIndex,
  colourCast,
  largestUniformShare,
  lumaStats,
  motionShare,
  sceneDifference,
  sceneSignature,
  temporalNoise,
  type SampleMeasures,
  type YuvFrame,
} from './measures.ts';

/** A picture from a function of (x, y) → [Y, U, V]. */
function picture(fn: (x: number, y: number) => [number, number, number]): YuvFrame {
  const y = new Uint8Array(W * H);
  const u = new Uint8Array(W * H);
  const v = new Uint8Array(W * H);
  for (let j = 0; j < H; j++)
    for (let i = 0; i < W; i++) {
      const [a, b, c] = fn(i, j);
      y[j * W + i] = a;
      u[j * W + i] = b;
      v[j * W + i] = c;
    }
  return { width: W, height: H, y, u, v };
}

/** Vertical bars of six greys and colours, plus a diagonal stripe that moves with `t`: a stand-in for testsrc2. */
const BARS: [number, number, number][] = [
  [150, 60, 50],
  [120, 180, 110],
  [200, 150, 60],
  [80, 100, 220],
  [110, 70, 150],
  [160, 170, 180],
];
const scene = (t = 0) =>
  picture((x, y) => {
    if (Math.abs(x - y * 1.5 - t * 30) < 6) return [235, 128, 128];
    return BARS[Math.floor((x / W) * BARS.length)]!;
  });

/** A 3×3 box blur of the luma, `n` times. */
function blurred(f: YuvFrame, n: number): YuvFrame {
  let src = f.y;
  for (let k = 0; k < n; k++) {
    const out = new Uint8Array(W * H);
    for (let j = 0; j < H; j++)
      for (let i = 0; i < W; i++) {
        let s = 0;
        let c = 0;
        for (let dj = -2; dj <= 2; dj++)
          for (let di = -2; di <= 2; di++) {
            const x = i + di;
            const y = j + dj;
            if (x < 0 || y < 0 || x >= W || y >= H) continue;
            s += src[y * W + x]!;
            c++;
          }
        out[j * W + i] = Math.round(s / c);
      }
    src = out;
  }
  return { ...f, y: src };
}

/** Deterministic pseudo-random numbers. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('sample arguments', () => {
  it('builds the exact list for an RTSP camera and for HTTP', () => {
    // prettier-ignore
    expect(
      buildSampleArgs(
        { url: 'rtsp://127.0.0.5:554/Streaming/Channels/102' },
        { pictures: 7, fps: 4, thumbnailPath: '/tmp/d/x.jpg', thumbnailWidth: 320 },
      ),
    ).toEqual([
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-protocol_whitelist', 'rtsp,rtp,tcp,udp',
      '-rtsp_transport', 'tcp', '-timeout', '5000000',
      '-analyzeduration', '2000000', '-probesize', '2000000',
      '-threads', '1',
      '-i', 'rtsp://127.0.0.5:554/Streaming/Channels/102',
      '-an', '-sn', '-dn',
      '-filter_threads', '1',
      '-map', '0:v:0',
      '-vf', "select='isnan(prev_selected_t)+gte(t-prev_selected_t,0.25)',scale=320:180:flags=area,format=yuv444p",
      '-vsync', 'passthrough',
      '-frames:v', '7',
      '-f', 'rawvideo', 'pipe:1',
      '-map', '0:v:0',
      '-vf', 'scale=320:-2',
      '-frames:v', '1', '-q:v', '6',
      '-f', 'image2', '-update', '1', '/tmp/d/x.jpg',
    ]);
    const http = buildSampleArgs(
      { url: 'HTTP://127.0.0.5/live.ts' },
      { pictures: 3, fps: 2, thumbnailPath: '/tmp/t.jpg', thumbnailWidth: 161 },
    );
    expect(http.slice(5, 9)).toEqual(['-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '5000000']);
    expect(http).toContain('http://127.0.0.5/live.ts');
    expect(http).toContain('scale=162:-2');
    expect(
      buildSampleArgs(
        { url: 'rtsp://h/x', legacyFfmpeg: true, rtspTransport: 'udp' },
        {
          pictures: 2,
          fps: 4,
          thumbnailPath: '/t.jpg',
          thumbnailWidth: 320,
        },
      ).slice(7, 11),
    ).toEqual(['-rtsp_transport', 'udp', '-stimeout', '5000000']);
  });

  it('refuses what must not reach ffmpeg', () => {
    const out = { pictures: 7, fps: 4, thumbnailPath: '/tmp/x.jpg', thumbnailWidth: 320 };
    expect(() => buildSampleArgs({ url: 'file:///etc/passwd' }, out)).toThrow(/refusing/);
    expect(() => buildSampleArgs({ url: '-i' }, out)).toThrow(/refusing/);
    expect(() => buildSampleArgs({ url: 'rtsp://admin:pw@127.0.0.5/s' }, out)).toThrow(/credentials/);
    expect(() => buildSampleArgs({ url: 'rtsp://h/x' }, { ...out, thumbnailPath: 'x.jpg' })).toThrow(/absolute/);
    expect(() => buildSampleArgs({ url: 'rtsp://h/x' }, { ...out, pictures: 0 })).toThrow(/pictures/);
  });
});

describe('measures', () => {
  it('reads exposure from the luma histogram', () => {
    const black = lumaStats(picture(() => [16, 128, 128]));
    expect(black.p90).toBe(16);
    expect(black.darkShare).toBe(1);
    const washed = lumaStats(picture((x) => [x < W * 0.6 ? 250 : 120, 128, 128]));
    expect(washed.p50).toBe(250);
    expect(washed.brightShare).toBeCloseTo(0.6, 2);
  });

  it('finds blur in a defocused scene with a sharp OSD on top', () => {
    const sharp = blurIndex(scene())!;
    const soft = blurred(scene(), 4);
    // A sharp white caption over the top rows, as a camera's OSD stays sharp.
    for (let j = 10; j < 30; j++) for (let i = 60; i < 260; i++) soft.y[j * W + i] = (i >> 2) % 2 ? 235 : 16;
    const defocused = blurIndex(soft)!;
    expect(sharp).toBeLessThan(DEFAULT_THRESHOLDS.blur);
    expect(defocused).toBeGreaterThan(DEFAULT_THRESHOLDS.blur);
    expect(blurIndex(picture(() => [120, 128, 128]))).toBeNull();
  });

  it('measures a colour cast against the spread of colours', () => {
    expect(colourCast(scene()).factor).toBeLessThan(DEFAULT_THRESHOLDS.castFactor);
    const tinted = scene();
    for (let k = 0; k < W * H; k++) {
      tinted.u[k] = Math.round((tinted.u[k]! - 128) * 0.5 + 100);
      tinted.v[k] = Math.round((tinted.v[k]! - 128) * 0.5 + 158);
    }
    const c = colourCast(tinted);
    expect(c.factor).toBeGreaterThan(DEFAULT_THRESHOLDS.castFactor);
    expect(c.distance).toBeGreaterThan(DEFAULT_THRESHOLDS.castDistance);
  });

  it('measures the largest flat region of one colour', () => {
    expect(largestUniformShare(blockGrid(scene()))).toBeLessThan(0.2);
    const covered = scene();
    for (let j = 0; j < H * 0.8; j++)
      for (let i = 0; i < W * 0.75; i++) {
        covered.y[j * W + i] = 70;
        covered.u[j * W + i] = 120;
        covered.v[j * W + i] = 135;
      }
    expect(largestUniformShare(blockGrid(covered))).toBeGreaterThan(0.55);
  });

  it('tells frozen from moving, and noise from stillness', () => {
    const still = [scene(0), scene(0), scene(0)];
    const moving = [scene(0), scene(1), scene(2)];
    expect(motionShare(still)).toBe(0);
    expect(motionShare(moving)).toBeGreaterThan(DEFAULT_THRESHOLDS.frozenMotion);
    expect(temporalNoise(moving)).toBe(0);
    const r = rng(1);
    const noisy = [0, 1, 2, 3].map(() => {
      const f = scene(0);
      for (let k = 0; k < W * H; k++) f.y[k] = Math.max(0, Math.min(255, f.y[k]! + Math.round((r() - 0.5) * 20)));
      return f;
    });
    expect(temporalNoise(noisy)).toBeGreaterThan(DEFAULT_THRESHOLDS.noise);
    expect(Number.isNaN(motionShare([scene()]))).toBe(true);
  });

  it('compares a scene with its reference, not with its passing traffic', () => {
    const ref = sceneSignature([scene(0), scene(1), scene(2)]);
    const later = sceneSignature([scene(3), scene(4), scene(5)]);
    expect(sceneDifference(later, ref)).toBeLessThan(DEFAULT_THRESHOLDS.sceneChange);
    const f = scene(0);
    const turned = picture((x, y) => [f.y[(H - 1 - y) * W + (W - 1 - x)]!, 128, 128]);
    expect(sceneDifference(sceneSignature([turned]), ref)).toBeGreaterThan(DEFAULT_THRESHOLDS.sceneChange);
    // Darker but the same scene: normalised away.
    const dusk = scene(0);
    for (let k = 0; k < W * H; k++) dusk.y[k] = Math.round(dusk.y[k]! * 0.6);
    expect(sceneDifference(sceneSignature([dusk]), ref)).toBeLessThan(DEFAULT_THRESHOLDS.sceneChange);
    expect(Number.isNaN(sceneDifference({ cols: 2, rows: 1, values: [0, 0] }, ref))).toBe(true);
  });
});

describe('judge', () => {
  const good: SampleMeasures = {
    frames: 7,
    lumaMean: 120,
    lumaP50: 110,
    lumaP90: 210,
    darkShare: 0.08,
    brightShare: 0.02,
    blur: 0.3,
    noise: 0,
    castFactor: 0.03,
    castDistance: 3,
    castHue: 0,
    uniformShare: 0.09,
    motion: 0.3,
    sceneDifference: 0,
  };
  const t = DEFAULT_THRESHOLDS;
  const cases: [string, Partial<SampleMeasures>, string[]][] = [
    ['good', {}, []],
    [
      'black hides the rest',
      { lumaP90: 16, lumaP50: 16, motion: 0, uniformShare: 0.8, sceneDifference: 0.6 },
      ['black'],
    ],
    [
      'dark hides cast, occlusion and scene',
      { lumaP50: 25, castFactor: 2, castDistance: 80, uniformShare: 0.5, sceneDifference: 0.5 },
      ['dark'],
    ],
    ['overexposed by the median', { lumaP50: 240, sceneDifference: 0.5 }, ['overexposed']],
    ['overexposed by the clipped share', { brightShare: 0.6 }, ['overexposed']],
    ['frozen', { motion: 0.005 }, ['frozen']],
    ['frozen and dark', { motion: 0.0, lumaP50: 20 }, ['dark', 'frozen']],
    [
      'occlusion hides scene and cast',
      { uniformShare: 0.4, sceneDifference: 0.5, castFactor: 0.6, castDistance: 17 },
      ['occlusion'],
    ],
    ['scene change', { sceneDifference: 0.6 }, ['scene_change']],
    ['no reference, no scene change', { sceneDifference: null }, []],
    ['blur', { blur: 0.65 }, ['blur']],
    ['blur unknown on a flat picture', { blur: null }, []],
    ['noise', { noise: 0.15 }, ['noise']],
    ['cast needs both factor and distance', { castFactor: 0.7, castDistance: 10 }, []],
    ['cast', { castFactor: 0.7, castDistance: 36 }, ['color_cast']],
    ['several at once, in order', { blur: 0.6, noise: 0.2, sceneDifference: 0.5 }, ['scene_change', 'blur', 'noise']],
    ['one picture: no motion or noise judged', { motion: Number.NaN, noise: Number.NaN }, []],
  ];
  for (const [name, m, kinds] of cases) it(name, () => expect(judgePicture({ ...good, ...m }, t)).toEqual(kinds));

  it('takes per-network thresholds', () => {
    expect(judgePicture({ ...good, blur: 0.65 }, { ...t, blur: 0.7 })).toEqual([]);
    expect(judgePicture({ ...good, blur: 0.65 }, t)).toEqual(['blur']);
  });
});

describe('sampling with a fake ffmpeg', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-diag-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const raw = (f: YuvFrame) => Buffer.concat([f.y, f.u, f.v]);
  const thumbOf = (args: readonly string[]) => args[args.length - 1]!;
  const opts = { thresholds: DEFAULT_THRESHOLDS, reference: null, timeoutMs: 10_000 };

  it('measures the pictures ffmpeg sends, niced, and keeps the thumbnail', async () => {
    const runner = createFakeRunner();
    const d = createPictureDiagnoser({ ffmpegPath: '/usr/bin/ffmpeg', runner, tmpDir: dir, nice: '/usr/bin/nice' });
    const p = d.diagnose({ url: 'rtsp://127.0.0.9/s' }, opts);
    await new Promise((r) => setImmediate(r));
    const child = runner.children[0]!;
    expect(child.cmd).toBe('/usr/bin/nice');
    expect(child.args.slice(0, 3)).toEqual(['-n', '19', '/usr/bin/ffmpeg']);
    writeFileSync(thumbOf(child.args), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    const stdout = child.stdout as PassThrough;
    // Split across chunks as a pipe delivers them.
    const all = Buffer.concat([0, 1, 2, 3, 4, 5, 6].map((t) => raw(scene(t))));
    stdout.write(all.subarray(0, 1000));
    stdout.write(all.subarray(1000));
    child.exit({ code: 0 });
    const r = await p;
    expect(r.status).toBe('good');
    expect(r.pictures).toBe(7);
    expect(r.thumbnail?.length).toBe(4);
    expect(r.signature?.values).toHaveLength(32 * 18);
  });

  it('measures in a worker thread exactly as inline, a frozen sample found frozen', async () => {
    const run = async (measureInWorker: boolean, pictures: YuvFrame[]) => {
      const runner = createFakeRunner();
      const d = createPictureDiagnoser({ ffmpegPath: 'ffmpeg', runner, tmpDir: dir, nice: null, measureInWorker });
      const p = d.diagnose({ url: 'rtsp://127.0.0.9/s' }, opts);
      await new Promise((r) => setImmediate(r));
      const child = runner.children[0]!;
      (child.stdout as PassThrough).write(Buffer.concat(pictures.map(raw)));
      child.exit({ code: 0 });
      return p;
    };
    const live = [0, 1, 2, 3, 4, 5, 6].map((t) => scene(t));
    const frozen = [0, 0, 0, 0, 0].map((t) => scene(t));
    const [inWorker, inline] = [await run(true, live), await run(false, live)];
    expect(inWorker.measures).toEqual(inline.measures);
    expect(inWorker.signature).toEqual(inline.signature);
    expect(inWorker.kinds).toEqual([]);
    const stuck = await run(true, frozen);
    expect(stuck.kinds).toEqual(['frozen']);
    expect(stuck.status).toBe('faulty');
  });

  it('says why no picture came, and that garbage is no verdict', async () => {
    const runner = createFakeRunner();
    const d = createPictureDiagnoser({ ffmpegPath: 'ffmpeg', runner, tmpDir: dir, nice: null });
    const refused = d.diagnose({ url: 'rtsp://127.0.0.9/s' }, opts);
    await new Promise((r) => setImmediate(r));
    runner.children[0]!.writeStderr('[tcp @ 0x1] Connection to tcp://127.0.0.9:554 failed: Connection refused\n');
    runner.children[0]!.exit({ code: 1 });
    expect(await refused).toMatchObject({ status: 'faulty', kinds: ['no_signal'], reason: 'refused' });

    const garbage = d.diagnose({ url: 'rtsp://127.0.0.9/s' }, opts);
    await new Promise((r) => setImmediate(r));
    runner.children[1]!.writeStderr('rtsp://u:secret@127.0.0.9/s: Invalid data found when processing input\n');
    runner.children[1]!.exit({ code: 1 });
    const g = await garbage;
    expect(g).toMatchObject({ status: 'failed', kinds: [], reason: 'invalid_data' });
    expect(g.detail).not.toContain('secret');
  });

  it('kills ffmpeg at the deadline and calls it a timeout', async () => {
    const runner = createFakeRunner();
    const clock = createFakeClock();
    const d = createPictureDiagnoser({ ffmpegPath: 'ffmpeg', runner, tmpDir: dir, nice: null, clock });
    const p = d.diagnose({ url: 'rtsp://127.0.0.9/s' }, { ...opts, timeoutMs: 5000 });
    await clock.advance(4999);
    expect(runner.children[0]!.signals).toEqual([]);
    await clock.advance(1);
    expect(runner.children[0]!.signals).toEqual(['SIGKILL']);
    expect(await p).toMatchObject({ status: 'faulty', kinds: ['no_signal'], reason: 'timeout' });
  });

  it('maps ffmpeg phrases to reasons', () => {
    expect(failureOf('method DESCRIBE failed: 401 Unauthorized', false)).toBe('unauthorized');
    expect(failureOf('method DESCRIBE failed: 404 Not Found', false)).toBe('not_found');
    // ffmpeg adds "Invalid data found" after any RTSP error status: the status is the reason.
    const refused =
      'method DESCRIBE failed: 503 Service Unavailable\nrtsp://127.0.0.1:1/x: Invalid data found when processing input';
    expect(failureOf(refused, false)).toBe('refused');
    expect(failureOf(refused.replace('503 Service Unavailable', '504 Gateway Time-out'), false)).toBe('timeout');
    expect(failureOf('[h264 @ 0x1] Invalid NAL unit size\nInvalid data found when processing input', false)).toBe(
      'invalid_data',
    );
    expect(failureOf('Output #0 does not contain any stream', false)).toBe('no_video');
    expect(failureOf('', true)).toBe('timeout');
    expect(failureOf('something else', false)).toBe('no_picture');
    expect(failureOf('Could not find codec parameters for stream 0 (Video: h264, none): unspecified size', false)).toBe(
      'no_picture',
    );
  });
});
