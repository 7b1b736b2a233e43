/// <reference lib="dom" />
/**
 * What the live benchmark's page runs (bundled by scripts/bench-live.ts with Vite, which resolves the client's
 * `@api` alias): the product's own MSE player and live socket, and the simulator's clock band reader to date
 * each presented picture. It sits beside the client rather than in scripts/ because it is browser code that
 * imports the client through its aliases (the root tsconfig knows neither); neither tsconfig includes it.
 */
import type { TicketGrant } from '../src/api.ts';
import { MseSession } from '../src/live/msePlayer.ts';
import { TILE_LATENCY } from '../src/live/mseState.ts';
import { readClockBand } from '../../scripts/sim/wallclock.ts';

type FrameCallback = (now: number, meta: { expectedDisplayTime: number; mediaTime: number }) => void;
type RvfcVideo = HTMLVideoElement & { requestVideoFrameCallback(cb: FrameCallback): number };

async function ticket(cameraId: number, signal: AbortSignal): Promise<TicketGrant> {
  const res = await fetch(`/api/v1/cameras/${cameraId}/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quality: 'sub', wait: 'running' }),
    signal,
  });
  if (!res.ok) throw new Error(`ticket ${cameraId}: ${res.status}`);
  return { ticket: await res.json(), ttlMs: 600_000 };
}

export interface Tile {
  /** Seconds from the start to the first presented frame; NaN when none within the timeout. */
  firstFrame: Promise<number>;
  /** 'mse', or why the player left the live socket (it would play HLS in the product). */
  transport(): string;
  /** Glass-to-glass latency of presented frames (s): display time against the clock burnt into the picture. */
  latencies(): number[];
  measureLatency(on: boolean): void;
  currentTime(): number;
  stop(): void;
}

/** Plays one camera in a new <video> (like a wall tile): the clock starts at the call, as a click would. */
export function play(cameraId: number, timeoutMs = 15_000): Tile {
  const t0 = performance.now();
  const video = document.createElement('video') as RvfcVideo;
  video.muted = true;
  video.width = 320;
  video.height = 180;
  document.body.append(video);
  let fellBack: string | null = null;
  const session = new MseSession({
    video,
    quality: 'sub',
    latency: TILE_LATENCY,
    requestTicket: (_q, signal) => ticket(cameraId, signal),
    onView: () => undefined,
    onFallback: (reason) => (fellBack = reason),
  });
  const firstFrame = new Promise<number>((resolve) => {
    video.requestVideoFrameCallback(() => resolve((performance.now() - t0) / 1000));
    setTimeout(() => resolve(NaN), timeoutMs);
  });
  session.start();
  const lat: number[] = [];
  let measuring = false;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const onFrame: FrameCallback = (_now, meta) => {
    if (measuring && video.videoWidth > 0) {
      const w = video.videoWidth;
      const h = video.videoHeight;
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      ctx.drawImage(video, 0, 0, w, h);
      // Only the band at the bottom (the last two macroblock rows) is read.
      const top = Math.max(0, h - 32);
      const rgba = ctx.getImageData(0, top, w, h - top).data;
      const luma = new Uint8Array(w * h);
      for (let i = 0, p = top * w; i < rgba.length; i += 4, p++) luma[p] = rgba[i + 1]!;
      const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
      const read = readClockBand(luma, w, h, w, shownAt);
      if (read) lat.push((shownAt - read.wallClockMs) / 1000);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  return {
    firstFrame,
    transport: () => (fellBack ? `fallback:${fellBack}` : 'mse'),
    latencies: () => lat.slice(),
    measureLatency: (on) => (measuring = on),
    currentTime: () => video.currentTime,
    stop: () => {
      session.destroy();
      video.remove();
    },
  };
}

// The bench injects this bundle into a page of the platform and calls it from there.
(window as unknown as { B: { play: typeof play }; benchReady: boolean }).B = { play };
(window as unknown as { benchReady: boolean }).benchReady = true;
