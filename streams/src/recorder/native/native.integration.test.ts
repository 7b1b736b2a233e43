/**
 * The in-process recorder (engine 'native') against cameras over real RTSP through the source proxy: the
 * simulator (Digest, its own packetizer) and GStreamer's RTSP server (x264 and rtph264pay, which no one on
 * the team wrote). What it writes is judged by ffprobe: decodable H.264 of the camera's size, timestamps
 * continuous across a run's segments, segment times on the wall clock. A server killed mid-segment leaves a
 * file the next start repairs; a camera that goes away is recorded again in a new run when it is back.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackBlock } from '../../../../scripts/sim/addresses.ts';
import type { Simulator } from '../../../../scripts/sim/index.ts';
import { gstRtspAvailable, startGstRtsp } from '../../../../tests/helpers/gst-rtsp.ts';
import type { SourceProxy } from '../../source-proxy.ts';
import { FFMPEG, FFPROBE, ffmpegPidsMentioning, probeVideo, sleep, waitFor } from '../../test-support.ts';
import { concatList } from '../args.ts';
import { createRecorder, type RecordedSegment, type Recorder } from '../recorder.ts';
import { openRecorderSim, type RecorderSim } from '../test-sim.ts';

let env: RecorderSim;
let sim: Simulator;
let block: LoopbackBlock;
let base: string;
let proxy: SourceProxy;
const recorders: Recorder[] = [];
const cam = (i: number) => env.cam(i);

/** Video packet times (s) of a file or a concat list, in order. */
function packetTimes(file: string, concat = false): Promise<number[]> {
  return new Promise((resolve, reject) => {
    // prettier-ignore
    execFile(FFPROBE, [
      '-v', 'error', ...(concat ? ['-f', 'concat', '-safe', '0'] : []), '-i', file,
      '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0',
    ], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ffprobe: ${stderr}`));
      resolve(
        stdout
          .split('\n')
          .map((l) => l.replace(/,+$/, '').trim())
          .filter(Boolean)
          .map(Number),
      );
    });
  });
}

beforeAll(async () => {
  env = await openRecorderSim('ccc-rec-native-');
  ({ sim, block, base, proxy } = env);
});

afterAll(async () => {
  await Promise.all(recorders.map((r) => r.close()));
  await env?.close();
});

describe('native recorder', () => {
  it('records the simulator without a process: decodable segments, continuous times, wall-clock ends', async () => {
    const root = path.join(base, 'n1');
    const rec = createRecorder({ ffmpegPath: FFMPEG, rootDir: root, proxy, segmentSeconds: 2, backoffMs: [300] });
    recorders.push(rec);
    const segs: RecordedSegment[] = [];
    rec.on('segment', (s) => segs.push(s));
    const t0 = Date.now();
    await rec.start('cam0', cam(0));
    await waitFor('three segments', () => segs.length >= 3, 30_000);
    // No process records: nothing on any command line, no pid.
    expect(rec.status('cam0')!.pid).toBeUndefined();
    expect(ffmpegPidsMentioning(root)).toEqual([]);
    for (const s of segs) {
      expect(s.startMs).toBeGreaterThanOrEqual(t0 - 1000);
      expect(s.endMs).toBeGreaterThan(s.startMs);
      expect(s.endMs).toBeLessThanOrEqual(Date.now());
      expect(s.bytes).toBe(statSync(s.path).size);
      // Cut at the first keyframe at or after 2 s (the simulator's keyframes are 1 s apart).
      expect((s.endMs - s.startMs) / 1000).toBeGreaterThan(1.5);
      expect((s.endMs - s.startMs) / 1000).toBeLessThan(3.5);
    }
    // Consecutive segments of one run touch.
    expect(Math.abs(segs[1]!.startMs - segs[0]!.endMs)).toBeLessThan(400);
    const v = await probeVideo(segs[0]!.path);
    expect(v).toMatchObject({ codec: 'h264', width: 320, height: 180 });
    expect(v.frames).toBeGreaterThanOrEqual(15);
    // Across the run's segments the timestamps go on at the camera's 10 fps, with no jump and no repeat.
    const list = path.join(base, 'n1.concat');
    writeFileSync(list, concatList(segs.slice(0, 3).map((s) => s.path)));
    const times = await packetTimes(list, true);
    expect(times.length).toBeGreaterThanOrEqual(40);
    for (let i = 1; i < times.length; i++) {
      const step = times[i]! - times[i - 1]!;
      expect(step, `packet ${i}`).toBeGreaterThan(0.05);
      expect(step, `packet ${i}`).toBeLessThan(0.2);
    }
    // Stopping lists the segment being written.
    const listed = segs.length;
    await rec.stop('cam0');
    expect(segs.length).toBe(listed + 1);
    const runDir = path.dirname(segs[0]!.path);
    expect(readdirSync(runDir).filter((f) => f.endsWith('.ts')).length).toBe(segs.length);
    expect(proxy.stats().connections).toBe(0);
  }, 60_000);

  it('a server killed mid-segment leaves a file the next start repairs and lists', async () => {
    const root = path.join(base, 'n2');
    const c = cam(1);
    const script = `
      import { createRecorder } from ${JSON.stringify(path.resolve(import.meta.dirname, '../recorder.ts'))};
      const rec = createRecorder({ ffmpegPath: ${JSON.stringify(FFMPEG)}, rootDir: ${JSON.stringify(root)}, segmentSeconds: 2 });
      rec.on('segment', (s) => process.stdout.write('seg ' + s.rel + '\\n'));
      await rec.start('cam1', ${JSON.stringify(c)});
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the child to record a segment', () => out.includes('seg '), 30_000);
      await sleep(1000);
      child.kill('SIGKILL');
      await waitFor('the child to die', () => child.exitCode !== null || child.signalCode !== null, 5_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const rec = createRecorder({ ffmpegPath: FFMPEG, rootDir: root, proxy, segmentSeconds: 2 });
    recorders.push(rec);
    const r = await rec.recover();
    expect(r.killed).toEqual([]);
    expect(r.repaired.length, out).toBe(1);
    const repaired = r.segments.find((s) => s.rel === r.repaired[0])!;
    expect((await probeVideo(repaired.path)).codec).toBe('h264');
    for (const s of r.segments) expect(statSync(s.path).size).toBe(s.bytes);
    expect((await rec.recover()).repaired).toEqual([]);
  }, 60_000);

  it('records GStreamer’s RTSP server (x264, rtph264pay fragments) through the proxy', async (ctx) => {
    if (!gstRtspAvailable()) return ctx.skip();
    const gst = await startGstRtsp({ host: block.host(20), size: '640x360' });
    try {
      const root = path.join(base, 'n3');
      const rec = createRecorder({ ffmpegPath: FFMPEG, rootDir: root, proxy, segmentSeconds: 2 });
      recorders.push(rec);
      const segs: RecordedSegment[] = [];
      rec.on('segment', (s) => segs.push(s));
      await rec.start('gst', {
        url: gst.url,
        codec: 'h264',
        audio: 'none',
      });
      await waitFor('two segments', () => segs.length >= 2, 40_000);
      const v = await probeVideo(segs[1]!.path);
      expect(v).toMatchObject({ codec: 'h264', width: 640, height: 360 });
      expect(v.frames).toBeGreaterThanOrEqual(15);
      await rec.stop('gst');
    } finally {
      await gst.stop();
    }
  }, 60_000);

  it('records a camera that sends RTP over UDP only (GStreamer), the transport found by auto', async (ctx) => {
    if (!gstRtspAvailable()) return ctx.skip();
    const gst = await startGstRtsp({ host: block.host(21), size: '320x180', udpOnly: true });
    try {
      const root = path.join(base, 'n5');
      const rec = createRecorder({ ffmpegPath: FFMPEG, rootDir: root, proxy, segmentSeconds: 2, backoffMs: [300] });
      recorders.push(rec);
      const segs: RecordedSegment[] = [];
      rec.on('segment', (s) => segs.push(s));
      await rec.start('udp', { url: gst.url, codec: 'h264', audio: 'none', rtspTransport: 'auto' });
      await waitFor('two segments', () => segs.length >= 2, 40_000);
      const v = await probeVideo(segs.at(-1)!.path);
      expect(v).toMatchObject({ codec: 'h264', width: 320, height: 180 });
      expect(v.frames).toBeGreaterThanOrEqual(15);
      await rec.stop('udp');
    } finally {
      await gst.stop();
    }
  }, 60_000);

  it('a camera that goes away is recorded again, in a new run, when it is back', async () => {
    const root = path.join(base, 'n4');
    const rec = createRecorder({
      ffmpegPath: FFMPEG,
      rootDir: root,
      proxy,
      segmentSeconds: 2,
      backoffMs: [300],
      staleAfterMs: 3_000,
    });
    recorders.push(rec);
    const segs: RecordedSegment[] = [];
    rec.on('segment', (s) => segs.push(s));
    await rec.start('cam0', cam(0));
    await waitFor('a segment', () => segs.length >= 1, 30_000);
    const firstRun = rec.status('cam0')!.runDir!;
    // The camera's RTSP sessions end (its server stops answering them).
    const code = sim.cameras[0]!.code;
    await sim.setFaults(code, { offline: true });
    await waitFor('the recorder to see the loss', () => rec.status('cam0')!.state !== 'live', 20_000);
    await sim.setFaults(code, {});
    await waitFor('segments of a new run', () => segs.some((s) => path.dirname(s.path) !== firstRun), 40_000);
    await rec.stop('cam0');
  }, 90_000);
});
