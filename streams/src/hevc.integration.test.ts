/**
 * H.265 sources are re-encoded to H.264 (browsers play no HEVC in HLS). The source is an MPEG-TS HEVC clip
 * served over HTTP at real-time pace by a small server on loopback; ffprobe checks what comes out.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHlsRelay, type HlsRelay } from './relay.ts';
import { FFMPEG, killLeftovers, probeVideo, run, waitFor } from './test-support.ts';

const CLIP_SECONDS = 30;
let base: string;
let server: http.Server;
let url: string;
let relay: HlsRelay;

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-relay-hevc-'));
  const clip = path.join(base, 'hevc.ts');
  // prettier-ignore
  const enc = await run(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=10:duration=${CLIP_SECONDS}`,
    '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=10:min-keyint=10:log-level=error',
    '-f', 'mpegts', clip,
  ]);
  expect(enc.code, enc.stderr).toBe(0);
  const data = readFileSync(clip);
  // Real-time pace, like a live source: 1/10 of a second's worth of the file every 100 ms.
  const perTick = Math.ceil(data.length / (CLIP_SECONDS * 10) / 188) * 188;
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'video/mp2t' });
    let off = 0;
    const send = () => {
      if (off >= data.length) return void res.end();
      res.write(data.subarray(off, off + perTick));
      off += perTick;
    };
    send();
    const timer = setInterval(send, 100);
    res.on('close', () => clearInterval(timer));
    req.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live.ts`;
  relay = createHlsRelay({ ffmpegPath: FFMPEG, rootDir: path.join(base, 'hls'), segmentSeconds: 1, listSize: 4 });
});

afterAll(async () => {
  await relay?.stopAll();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  const leftovers = killLeftovers(base);
  rmSync(base, { recursive: true, force: true });
  expect(leftovers, 'ffmpeg left running after the tests').toEqual([]);
});

describe('H.265 source', () => {
  it('declared H.265: re-encoded, the segments are H.264', async () => {
    const s = await relay.acquire('hevc', { url, codec: 'h265', audio: 'none', fps: 10 });
    const pl = await relay.waitForPlaylist('hevc', 25_000);
    const video = await probeVideo(path.join(s.dir, pl.segments[0]!.uri));
    expect(video).toMatchObject({ codec: 'h264', width: 320, height: 180 });
    expect(relay.status('hevc')).toMatchObject({ transcode: true, codec: 'h265' });
    // The live fMP4 output (issue 15) copies the camera's H.265 instead of encoding twice: a browser that
    // decodes HEVC (MediaSource.isTypeSupported of this codec string) plays it; any other plays the HLS above.
    const feed = relay.live('hevc')!;
    expect(await feed.waitForInit(10_000)).toBe(true);
    expect(feed.codec).toMatch(/^hev1\.1\.6\.L\d+/);
    const frames: boolean[] = [];
    feed.subscribe({ init() {}, fragment: (f) => void frames.push(f.keyframe), buffered: () => 0 });
    await waitFor('H.265 fragments', () => frames.length >= 12, 10_000);
    expect(frames[0]).toBe(true);
    await relay.stop('hevc');
  });

  it('declared unknown: found to be H.265 in the first segment, restarted as a re-encode', async () => {
    const s = await relay.acquire('guess', { url, codec: 'unknown', audio: 'none' });
    await waitFor('transcode', () => relay.status('guess')?.transcode, 25_000);
    await waitFor('live re-encode', () => relay.status('guess')?.state === 'live', 25_000);
    const pl = await relay.waitForPlaylist('guess', 5_000);
    const video = await probeVideo(path.join(s.dir, pl.segments.at(-1)!.uri));
    expect(video.codec).toBe('h264');
    await relay.stop('guess');
  });
});
