/**
 * The recorder's ffmpeg engine (`engine: 'ffmpeg'`, used for sources the native writer does not read, and
 * kept selectable for RTSP) with real ffmpeg against the camera simulator (over the loopback source proxy): segments listed
 * with wall-clock times, a kill -9 mid-segment repaired and the recording resumed in a new run, a recorder
 * whose server died found and killed at the next start, its cut segment repaired; no ffmpeg left behind.
 */
import { readdirSync, truncateSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../scripts/sim/index.ts';
import type { SourceProxy } from '../source-proxy.ts';
import {
  FFMPEG,
  ffmpegPidsMentioning,
  isAlive,
  killLeftovers,
  probeVideo,
  procs,
  sleep,
  waitFor,
} from '../test-support.ts';
import { createRecorder, type RecordedSegment, type Recorder } from './recorder.ts';
import { openRecorderSim, type RecorderSim } from './test-sim.ts';

let env: RecorderSim;
let sim: Simulator;
let base: string;
let proxy: SourceProxy;
const recorders: Recorder[] = [];
const cam = (i: number) => env.cam(i);

beforeAll(async () => {
  env = await openRecorderSim('ccc-rec-it-');
  ({ sim, base, proxy } = env);
});

afterAll(async () => {
  await Promise.all(recorders.map((r) => r.close()));
  const leftovers = env ? killLeftovers(env.base) : [];
  await env?.close();
  expect(leftovers, 'ffmpeg left running after the tests').toEqual([]);
});

describe('recorder with real ffmpeg', () => {
  it('records segments with wall-clock times; a kill -9 mid-segment is repaired and recording resumes', async () => {
    const root = path.join(base, 'rec1');
    const rec = createRecorder({
      ffmpegPath: FFMPEG,
      engine: 'ffmpeg',
      rootDir: root,
      proxy,
      segmentSeconds: 2,
      backoffMs: [300],
    });
    recorders.push(rec);
    const segs: RecordedSegment[] = [];
    rec.on('segment', (s) => segs.push(s));
    const t0 = Date.now();
    await rec.start('cam0', cam(0));
    await rec.start('cam0', cam(0)); // a second start of the same input is the same recorder
    await waitFor('two segments', () => segs.length >= 2, 30_000);
    // The password reaches no command line: ffmpeg reads the loopback proxy.
    const pid = rec.status('cam0')!.pid!;
    expect((procs.cmdline(pid) ?? []).join(' ')).not.toContain(sim.cameras[0]!.password);
    expect(procs.cmdline(pid)).toContain('copy');
    for (const s of segs) {
      expect(s.startMs).toBeGreaterThanOrEqual(t0 - 1000);
      expect(s.endMs).toBeGreaterThan(s.startMs);
      expect(s.endMs).toBeLessThanOrEqual(Date.now());
      expect(s.bytes).toBeGreaterThan(0);
    }
    // Consecutive segments of one process touch (within the resolution of file times and packet arrival).
    expect(Math.abs(segs[1]!.startMs - segs[0]!.endMs)).toBeLessThan(400);
    const video = await probeVideo(segs[0]!.path);
    expect(video).toMatchObject({ codec: 'h264', width: 320, height: 180 });

    // kill -9 while a segment is being written: the watchdog's supervisor restarts into a new run directory and
    // the cut segment is repaired (or dropped if unreadable) and announced.
    const runBefore = rec.status('cam0')!.runDir!;
    await sleep(700);
    procs.signalGroup(pid, 'SIGKILL');
    await waitFor(
      'a new process',
      () => {
        const st = rec.status('cam0');
        return st?.pid !== undefined && st.pid !== pid && st.runDir !== runBefore;
      },
      20_000,
    );
    const n = segs.length;
    await waitFor('segments from the new run', () => segs.slice(n).some((s) => !s.path.startsWith(runBefore)), 30_000);
    const fromOld = segs.filter((s) => s.path.startsWith(runBefore));
    expect(segs.some((s) => s.repaired && s.path.startsWith(runBefore))).toBe(true);
    // Every file left in the old run is listed (nothing half-written remains unindexed).
    const left = readdirSync(runBefore).filter((f) => f.endsWith('.ts'));
    expect(left.sort()).toEqual(fromOld.map((s) => path.basename(s.path)).sort());
    const newRun = segs.find((s) => !s.path.startsWith(runBefore))!;
    // The restart is a gap: the new run starts after the old one's last segment ended.
    expect(newRun.startMs).toBeGreaterThanOrEqual(Math.max(...fromOld.map((s) => s.endMs)) - 400);
    await rec.stop('cam0');
    expect(ffmpegPidsMentioning(root)).toEqual([]);
    expect(rec.keys()).toEqual([]);
  }, 90_000);

  it('a server that died mid-recording: the next start kills its ffmpeg and repairs the cut segment', async () => {
    const root = path.join(base, 'rec2');
    // The dying server: a child Node process running a recorder, killed with -9.
    const script = `
      import { createRecorder } from ${JSON.stringify(path.resolve(import.meta.dirname, 'recorder.ts'))};
      const rec = createRecorder({ ffmpegPath: ${JSON.stringify(FFMPEG)}, engine: 'ffmpeg', rootDir: ${JSON.stringify(root)}, segmentSeconds: 2 });
      await rec.start('cam1', ${JSON.stringify({ url: sim.cameras[1]!.mainStreamUri, credentials: null, codec: 'h264', audio: 'none' })});
      rec.on('segment', (s) => process.stdout.write('seg ' + s.rel + '\\n'));
      setInterval(() => {}, 1000);
    `;
    // The simulator demands credentials; this child reads camera 1 with them through its own proxy.
    const withCreds = script.replace(
      '"credentials":null',
      `"credentials":${JSON.stringify({ username: sim.cameras[1]!.username, password: sim.cameras[1]!.password })}`,
    );
    const child = spawn(process.execPath, ['--input-type=module', '-e', withCreds], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the child to record a segment', () => out.includes('seg '), 30_000);
      await sleep(800);
      const ff = ffmpegPidsMentioning(root);
      expect(ff.length).toBe(1);
      // Frozen so it cannot close its segment when its server's proxy goes: it dies with the segment open.
      procs.signalGroup(ff[0]!, 'SIGSTOP');
      child.kill('SIGKILL');
      await waitFor('the child to die', () => child.exitCode !== null || child.signalCode !== null, 5_000);
      // Its ffmpeg lives on, an orphan.
      const orphan = ff[0]!;
      expect(isAlive(orphan)).toBe(true);
      const rec = createRecorder({ ffmpegPath: FFMPEG, engine: 'ffmpeg', rootDir: root, proxy, segmentSeconds: 2 });
      recorders.push(rec);
      const result = await rec.recover();
      expect(result.killed).toEqual([orphan]);
      expect(isAlive(orphan)).toBe(false);
      expect(result.segments.length).toBeGreaterThanOrEqual(1);
      expect(result.repaired.length).toBe(1);
      for (const s of result.segments) expect(statSync(s.path).size).toBe(s.bytes);
      // Recover again: nothing new to repair, the same segments.
      const again = await rec.recover();
      expect(again.repaired).toEqual([]);
      expect(again.segments.map((s) => s.rel).sort()).toEqual(result.segments.map((s) => s.rel).sort());
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('a segment too damaged to read is dropped at recovery', async () => {
    const root = path.join(base, 'rec3');
    const rec = createRecorder({ ffmpegPath: FFMPEG, engine: 'ffmpeg', rootDir: root, proxy, segmentSeconds: 2 });
    recorders.push(rec);
    const segs: RecordedSegment[] = [];
    rec.on('segment', (s) => segs.push(s));
    await rec.start('cam0', cam(0));
    await waitFor('a segment', () => segs.length >= 1, 30_000);
    await rec.stop('cam0');
    // An unlisted file holding a few bytes of nothing: what a kill right after opening leaves.
    const run = path.dirname(segs[0]!.path);
    const bad = path.join(run, 'seg_000999.ts');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, Buffer.alloc(100));
    truncateSync(bad, 50);
    const r = await rec.recover();
    expect(r.dropped).toContain(path.relative(root, bad));
    expect(r.segments.map((s) => s.path)).not.toContain(bad);
  }, 60_000);
});
