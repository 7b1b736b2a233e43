/// <reference lib="dom" />
/**
 * Time to first frame in headless Chromium over the HLS path:
 *   npm run bench:first-frame
 * For each of 10 cold cameras: from the moment the page asks the API for a
 * ticket to the first decoded frame (requestVideoFrameCallback) of hls.js
 * playing it. Real server, real relay (ffmpeg), the simulator, Debian's Chromium.
 * Prints `BENCH relay.first_frame.p50.gop<N>s` and `.p95` (s) for each keyframe interval in
 * BENCH_FIRST_FRAME_GOPS (default "1,4": real cameras use 2–4 s, and a segment closes only at a keyframe).
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { claimLoopbackBlock } from './sim/addresses.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { client, firstVillage, registerSimCamera, startTestServer } from '../tests/helpers/server.ts';
import { CHROMIUM_ARGS } from '../tests/browser/harness.ts';

const ARGS = [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'];
const HLS_JS = readFileSync(path.resolve(import.meta.dirname, '../node_modules/hls.js/dist/hls.min.js'), 'utf8');
const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video><script src="/bench-hls.js"></script></body></html>`;

async function measure(gop: number): Promise<void> {
  const block = await claimLoopbackBlock();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(10, { firstIp: block.host(1), seed: 8 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-ff-')),
    discovery: false,
    clipMode: 'shared',
    keyframeIntervalSec: gop,
    onvifPort: 0,
    rtspPort: 0,
    streamOverrides: { sub: { width: 640, height: 360, fps: 25 } },
  });
  const t = await startTestServer({ cameras: 0, relay: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    const token = await t.login('tech');
    const tech = client(t.api, token);
    const village = await firstVillage(tech);
    const ids: number[] = [];
    // No ONVIF address: these points are played, never asked for a keyframe.
    for (const [i, c] of sim.cameras.entries())
      ids.push(
        await registerSimCamera(tech, c, { name: `首帧${i}`, orgUnitId: village, onvifUrl: undefined, ptz: undefined }),
      );
    const page = await browser.newPage();
    // The bench page and hls.js are served from the platform's own origin by the browser harness, not by the platform.
    await page.route('**/bench.html', (r) => r.fulfill({ contentType: 'text/html', body: PAGE }));
    await page.route('**/bench-hls.js', (r) => r.fulfill({ contentType: 'text/javascript', body: HLS_JS }));
    await page.goto(`${t.url}/bench.html`);
    const times: number[] = [];
    for (const id of ids) {
      const ms = await page.evaluate(
        async ({ id, token }) => {
          const w = window as unknown as {
            Hls: new (cfg: object) => {
              loadSource(u: string): void;
              attachMedia(v: HTMLVideoElement): void;
              destroy(): void;
            };
          };
          const video = document.getElementById('v') as HTMLVideoElement & {
            requestVideoFrameCallback(cb: () => void): void;
          };
          const t0 = performance.now();
          const res = await fetch(`/api/v1/cameras/${id}/stream`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{"quality":"sub"}',
          });
          const ticket = (await res.json()) as { playlistUrl: string };
          const hls = new w.Hls({
            liveSyncDurationCount: 1,
            lowLatencyMode: false,
            backBufferLength: 4,
            // A playlist and its segments play only for the session that asked for the ticket.
            xhrSetup: (xhr: XMLHttpRequest, url: string) => {
              xhr.open('GET', url, true);
              xhr.setRequestHeader('authorization', `Bearer ${token}`);
            },
          });
          const first = new Promise<number>((resolve) =>
            video.requestVideoFrameCallback(() => resolve(performance.now() - t0)),
          );
          hls.loadSource(ticket.playlistUrl);
          hls.attachMedia(video);
          void video.play().catch(() => undefined);
          const took = await Promise.race([first, new Promise<number>((r) => setTimeout(() => r(NaN), 15_000))]);
          hls.destroy();
          return took;
        },
        { id, token },
      );
      if (!Number.isFinite(ms)) throw new Error(`camera ${id}: no frame within 15 s`);
      times.push(ms / 1000);
    }
    times.sort((a, b) => a - b);
    console.log(
      `# mode: ${times.length} cold cameras (sub 640x360), simulator cameras join mid-GOP (idrOnConnect off, the default), GOP ${gop} s, shared clips; load ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    console.log(`# first frames (s): ${times.map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`BENCH relay.first_frame.p50.gop${gop}s ${times[Math.floor(times.length / 2)]!.toFixed(3)} s`);
    console.log(
      `BENCH relay.first_frame.p95.gop${gop}s ${times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]!.toFixed(3)} s`,
    );
  } finally {
    await browser.close();
    await t.close();
    await sim.stop();
    await block.release();
  }
}

for (const gop of (process.env['BENCH_FIRST_FRAME_GOPS'] ?? '1,4').split(',').map(Number)) await measure(gop);
