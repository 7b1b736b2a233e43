/// <reference lib="dom" />
/**
 * npm run bench:playback — 录像回放 in headless Chromium (issue 14), on the platform's own recordings:
 *   npm run bench:playback                          # at GOP 1 s and 4 s: record 120 s, 6 cold clicks, 6 seeks
 *   npm run bench:playback -- --record 60 --clicks 4
 *   BENCH_PLAYBACK_GOPS=4 npm run bench:playback    # one keyframe interval only
 * Real server with the real recorder (ffmpeg copy into MPEG-TS segments of `recording.segmentSeconds`, 6 s by
 * default), one simulated camera (1280x720 25 fps H.264), the built client (npm run build:client first) on its
 * /playback/:id page, Debian's Chromium. The whole run is made at each keyframe interval (GOP) in
 * BENCH_PLAYBACK_GOPS, default 1 s and 4 s (real cameras use 2–4 s; a segment closes only at a keyframe and a seek
 * decodes from the keyframe before), each with a fresh simulator, server and browser, its figures named `.gop1s` /
 * `.gop4s` (`playback.first_frame.p50.gop4s`); about 2 × (--record + 40 s) at the defaults. After recording for a
 * while:
 *   - playback.first_frame.p50 (s): a fresh page (no ticket, no player), the timeline zoomed onto the recorded
 *     span by the wheel, one click on a recorded moment: from that click (pointerdown) to the first frame the
 *     video presents (requestVideoFrameCallback). Each click on another moment, each on a fresh page (cold).
 *   - playback.seek.p50 (s): while a range plays, a click on a later moment inside the same ticket: from the
 *     click to the first presented frame at the new position (its mediaTime within 0.5 s of where the page
 *     seeked).
 * Prints what ran (counts, GOP, segment length, load average). Exits non-zero when a click brings no frame, at
 * either keyframe interval (the other still runs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { claimLoopbackBlock } from './sim/addresses.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { DEMO_PASSWORD } from '../server/src/demo/seed.ts';
import { killLeftovers } from '../streams/src/test-support.ts';
import { CHROMIUM, CHROMIUM_ARGS, CLIENT_DIR } from '../tests/browser/harness.ts';
import { client, firstVillage, registerSimCamera } from '../tests/helpers/server.ts';
import { startRecordingServer } from '../tests/recording/support.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const RECORD_SEC = Number(arg('record', '120'));
const CLICKS = Number(arg('clicks', '6'));
const SEGMENT_SEC = 6;
const GOPS = (process.env['BENCH_PLAYBACK_GOPS'] ?? '1,4').split(',').map(Number);
const NO_FRAME_MS = 15_000;

const load = () =>
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In the page: the time of the last pointerdown, and a wait for the first presented frame near a position. */
const INSTRUMENT = `(() => {
  window.__clickAt = 0;
  document.addEventListener('pointerdown', () => { window.__clickAt = performance.now(); }, true);
  window.__firstFrame = (target, timeoutMs) => new Promise((resolve) => {
    const v = document.querySelector('[data-testid=playback-video]');
    const clickAt = window.__clickAt;
    const done = setTimeout(() => resolve(null), timeoutMs);
    const onFrame = (now, meta) => {
      if (target === null || Math.abs(meta.mediaTime - target) < 0.5) {
        clearTimeout(done);
        resolve({ sec: (now - clickAt) / 1000, mediaTime: meta.mediaTime });
      } else v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  });
})()`;

/** Zooms the timeline onto the recorded span (wheel over its middle) and returns the x of a moment of it. */
async function zoomOnSpan(page: Page, span: { start: number; end: number }) {
  const track = page.getByTestId('timeline');
  const el = page.getByTestId('span').first();
  await el.waitFor();
  const tb = (await track.boundingBox())!;
  const min = Number(await track.getAttribute('aria-valuemin'));
  const max = Number(await track.getAttribute('aria-valuemax'));
  // The span (just recorded) lies in the last pixel of 24 h: zoom at that pixel, then pan to the end.
  const x = Math.min(tb.x + tb.width - 1, Math.round(tb.x + ((span.start - min) / (max - min)) * tb.width));
  await page.mouse.move(x, tb.y + tb.height / 2);
  // 24 h / 1.5^13 ≈ 7.4 min: the whole span visible, a second a few pixels wide.
  for (let i = 0; i < 13; i++) await page.mouse.wheel(0, -100);
  await page.keyboard.down('Shift');
  await page.mouse.wheel(0, 5_000);
  await page.keyboard.up('Shift');
  await sleep(200);
  const b = await el.boundingBox();
  if (!b || b.x < tb.x || b.x + b.width > tb.x + tb.width)
    throw new Error(`the span is not whole in view: ${JSON.stringify(b)}`);
  // Read where the span is at each click: the video grows once it has a picture and moves the timeline down.
  return async (ms: number) => {
    const now = (await el.boundingBox())!;
    return { x: now.x + ((ms - span.start) / (span.end - span.start)) * now.width, y: now.y + now.height / 2 };
  };
}

/** The whole run at one keyframe interval; returns the exit code (1: it failed). */
async function measure(gop: number): Promise<number> {
  const tag = `gop${gop}s`;
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-playback-'));
  const block = await claimLoopbackBlock();
  const silent = await claimLoopbackBlock();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(1, { firstIp: block.host(1), seed: 14 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir: path.join(work, 'clips'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    keyframeIntervalSec: gop,
    streamOverrides: {
      main: { width: 1280, height: 720, fps: 25, bitrateKbps: 2048 },
      sub: { width: 640, height: 360, fps: 15 },
    },
    log: () => undefined,
  });
  const rs = await startRecordingServer({
    base: work,
    secretKey: randomBytes(32),
    tokenKey: randomBytes(32),
    seed: { hostOf: (i) => silent.host(1 + i) },
    clientDir: CLIENT_DIR,
    segmentSeconds: SEGMENT_SEC,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
  let failed = false;
  try {
    const tech1 = client(rs.api, await rs.login('tech1'));
    const cam = await registerSimCamera(tech1, sim.cameras[0]!, {
      name: '回放基准',
      orgUnitId: await firstVillage(tech1),
    });
    const admin = client(rs.api, await rs.login('admin'));
    const t0 = Date.now();
    const plan = await admin.put('/recording/plans', { cameraId: cam, mode: 'continuous', retentionDays: 1 });
    console.log(
      `# recording 1 point for ${RECORD_SEC} s: 1280x720 25 fps H.264 ~2 Mbit/s, GOP ${gop} s, ${SEGMENT_SEC} s MPEG-TS segments (copy); ${load()}`,
    );
    await sleep(RECORD_SEC * 1000);
    // Stopped before measuring, so the span the page draws is the one measured against (and the one CPU core
    // the recorder and the simulator take is free again).
    const del = await admin.del(`/recording/plans/${(plan.json as { id: number }).id}`);
    if (del.status >= 300) throw new Error(`plan delete: ${del.status} ${del.text}`);
    await sleep(SEGMENT_SEC * 1000 + 2_000);
    const r = await admin.get(
      `/recording/cameras/${cam}/spans?from=${new Date(t0 - 60_000).toISOString()}&to=${new Date().toISOString()}`,
    );
    const spans = (r.json.spans as Array<{ start: string; end: string }>)
      .map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }))
      .sort((a, b) => b.end - b.start - (a.end - a.start));
    const span = spans[0];
    if (!span || span.end - span.start < 30_000) {
      console.error(`GOP ${gop} s: recorded too little: ${JSON.stringify(r.json.spans)}`);
      return 1;
    }
    console.log(
      `# recorded ${spans.length} span(s), the longest ${((span.end - span.start) / 1000).toFixed(0)} s; ${load()}`,
    );

    const context = await browser.newContext({ baseURL: rs.url, viewport: { width: 1400, height: 900 } });
    await context.addInitScript(INSTRUMENT);
    const page = await context.newPage();
    await page.goto('/');
    await page.locator('input[name=username]').fill('township1');
    await page.locator('input[name=password]').fill(DEMO_PASSWORD);
    await page.locator('form.login__card button[type=submit]').click();
    await page.locator('header.topbar').waitFor();

    const firstFrames: number[] = [];
    const seeks: number[] = [];
    const len = span.end - span.start;
    for (let i = 0; i < CLICKS; i++) {
      // Cold: a fresh page each time, so no ticket, no player, nothing buffered.
      await page.goto(`/playback/${cam}`);
      await page.getByTestId('playback').waitFor();
      const where = await zoomOnSpan(page, span);
      // Moments spread over the first half of the span (the second half is where the seeks go).
      const at = span.start + 3_000 + ((len / 2 - 6_000) * i) / Math.max(1, CLICKS - 1);
      const p1 = await where(at);
      await page.mouse.click(p1.x, p1.y);
      const first = await page.evaluate(
        (ms) =>
          (
            window as unknown as {
              __firstFrame: (t: null, ms: number) => Promise<{ sec: number } | null>;
            }
          ).__firstFrame(null, ms),
        NO_FRAME_MS,
      );
      if (!first) {
        console.error(`GOP ${gop} s: click ${i + 1}: no frame within ${NO_FRAME_MS / 1000} s`);
        failed = true;
        continue;
      }
      firstFrames.push(first.sec);
      // Play a moment, then seek forward inside the same ticket.
      await sleep(1_000);
      const to = at + len / 2 - 2_000;
      const p2 = await where(to);
      await page.mouse.click(p2.x, p2.y);
      const target = await page.evaluate(
        () => document.querySelector<HTMLVideoElement>('[data-testid=playback-video]')!.currentTime,
      );
      const seek = await page.evaluate(
        ([t, ms]) =>
          (
            window as unknown as {
              __firstFrame: (t: number, ms: number) => Promise<{ sec: number } | null>;
            }
          ).__firstFrame(t!, ms!),
        [target, NO_FRAME_MS],
      );
      if (!seek) {
        console.error(`GOP ${gop} s: seek ${i + 1}: no frame at ${target.toFixed(1)} s within ${NO_FRAME_MS / 1000} s`);
        failed = true;
        continue;
      }
      seeks.push(seek.sec);
    }
    await context.close();
    const what = (n: number) =>
      `${n}/${CLICKS} clicks, 1 point 720p25 GOP ${gop} s, ${SEGMENT_SEC} s segments, ${load()}`;
    if (firstFrames.length)
      console.log(
        `BENCH playback.first_frame.p50.${tag} ${median(firstFrames).toFixed(3)} s  # cold click on the timeline to the first presented frame; ${what(firstFrames.length)}; all: ${firstFrames.map((x) => x.toFixed(2)).join(' ')}`,
      );
    if (seeks.length)
      console.log(
        `BENCH playback.seek.p50.${tag} ${median(seeks).toFixed(3)} s  # click inside the playing ticket to the first frame at the new position; ${what(seeks.length)}; all: ${seeks.map((x) => x.toFixed(2)).join(' ')}`,
      );
    if (!firstFrames.length || !seeks.length) failed = true;
  } catch (err) {
    console.error(err);
    failed = true;
  } finally {
    await browser.close().catch(() => undefined);
    await rs.close().catch(() => undefined);
    const left = killLeftovers(work);
    if (left.length) console.error(`left behind and killed: ${left.join(', ')}`);
    await sim.stop();
    await block.release();
    await silent.release();
    rmSync(work, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

let code = 0;
for (const gop of GOPS) if ((await measure(gop)) !== 0) code = 1;
process.exit(code);
