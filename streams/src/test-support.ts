/** Helpers for the integration tests: real ffmpeg, process accounting by PID, ffprobe, leak checks. */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, type SimulatorOptions } from '../../scripts/sim/index.ts';
import { createProcessRunner, createProcessTable, type ProcessRunner } from './process.ts';

export const FFMPEG = '/usr/bin/ffmpeg';
export const FFPROBE = '/usr/bin/ffprobe';
export const procs = createProcessTable();

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | undefined | false | null, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The real runner, recording every ffmpeg it starts and how many run at once. */
export function countingRunner() {
  const real = createProcessRunner();
  const spawned: Array<{ pid: number | undefined; args: readonly string[]; exited: boolean }> = [];
  let alive = 0;
  let peak = 0;
  const runner: ProcessRunner = {
    spawn(cmd, args, opts) {
      const h = real.spawn(cmd, args, opts);
      const rec = { pid: h.pid, args, exited: false };
      spawned.push(rec);
      peak = Math.max(peak, ++alive);
      h.on('exit', () => {
        rec.exited = true;
        alive--;
      });
      return h;
    },
  };
  return {
    runner,
    spawned,
    peak: () => peak,
    /** Spawns whose arguments mention `text` (e.g. a stream directory). */
    spawnsFor: (text: string) => spawned.filter((s) => s.args.some((a) => a.includes(text))),
  };
}

/** Live ffmpeg processes (by /proc) whose command line mentions `text`. */
export function ffmpegPidsMentioning(text: string): number[] {
  return procs.findByName('ffmpeg').filter((pid) => {
    if (!procs.stat(pid)) return false;
    return (procs.cmdline(pid) ?? []).some((a) => a.includes(text));
  });
}

export const isAlive = (pid: number) => procs.stat(pid) !== null;

/** Kills (and reports) any ffmpeg still writing under `root`: a test must not leave one behind. */
export function killLeftovers(root: string): number[] {
  const left = ffmpegPidsMentioning(root);
  for (const pid of left) procs.signalGroup(pid, 'SIGKILL');
  return left;
}

export function run(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Codec, size of the video stream of a file, decoded by ffprobe (count_frames makes it decode). */
export async function probeVideo(
  file: string,
): Promise<{ codec: string; width: number; height: number; frames: number }> {
  const r = await run(FFPROBE, [
    '-v', 'error', '-select_streams', 'v:0', '-count_frames',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file,
  ]); // prettier-ignore
  if (r.code !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Array<Record<string, string | number>> }).streams[0];
  if (!s) throw new Error(`no video stream in ${file}`);
  return {
    codec: String(s['codec_name']),
    width: Number(s['width']),
    height: Number(s['height']),
    frames: Number(s['nb_read_frames']),
  };
}

/**
 * An HTTP camera: MPEG-TS over HTTP (a short clip encoded once, sent in a loop at its own pace, so a reader
 * never runs dry), as encoders and some platforms serve it.
 */
export async function pacedTsServer(host: string, workDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const file = path.join(workDir, 'clip.ts');
  execFileSync(FFMPEG, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0', '-f', 'mpegts', file,
  ]); // prettier-ignore
  const clip = readFileSync(file);
  const perTick = Math.ceil(clip.length / 40); // 4 s in 100 ms steps
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    let off = 0;
    const t = setInterval(() => {
      res.write(clip.subarray(off, off + perTick));
      off = off + perTick >= clip.length ? 0 : off + perTick;
    }, 100);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/live.ts`,
    close: () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * The simulator the streams tests start: `cameras` (two) on `block`, 320x180 at 10 fps from one shared clip under
 * `base`, ONVIF and RTSP on ports of their own, no discovery. Callers add what they test (credentials, Digest).
 */
export function smallSimOptions(base: string, block: LoopbackBlock, cameras = 2): SimulatorOptions {
  return {
    cameras: defaultCameraSpecs(cameras, { firstIp: block.host(1) }),
    clipDir: path.join(base, 'clips'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10, bitrateKbps: 300 } },
  };
}
