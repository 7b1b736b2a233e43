/**
 * A relay killed with -9: with the live fMP4 output (the default) its ffmpeg writes to a pipe the dead relay
 * held, so it ends by itself; without it (HLS only) the ffmpeg keeps running (they lead their own process
 * groups). The next relay on the same root finds them by pid file, checks /proc that they are our ffmpeg,
 * kills them and removes their dirs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { createHlsRelay } from './relay.ts';
import { FFMPEG, ffmpegPidsMentioning, isAlive, killLeftovers, pacedTsServer, waitFor } from './test-support.ts';

const FIXTURE = fileURLToPath(new URL('./orphan-child.fixture.ts', import.meta.url));
let block: LoopbackBlock;
let base: string;
let child: ChildProcess | undefined;
let camera: { url: string; close(): Promise<void> };

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-relay-orphans-'));
  block = await claimLoopbackBlock();
  // An HTTP camera without a password, which ffmpeg reads directly: an RTSP camera is read through the
  // relay's own source proxy, and its ffmpeg ends with the relay (its input closes), leaving no orphan.
  camera = await pacedTsServer(block.host(1), base);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const leftovers = killLeftovers(base);
  await camera?.close();
  await block?.release();
  rmSync(base, { recursive: true, force: true });
  expect(leftovers, 'ffmpeg left running after the test').toEqual([]);
});

/** Starts a relay in a child process, waits until it is live, then kills it with -9. */
async function killedRelay(
  root: string,
  mode: 'live' | 'hls-only',
): Promise<{ pid: number; dir: string; relayPid: number }> {
  child = spawn(process.execPath, [FIXTURE, root, camera.url, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const line = await waitFor('the child relay to be live', () => out.includes('\n') && out, 30_000);
  const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
  expect(ffmpegPidsMentioning(dir)).toEqual([pid]);

  const gone = new Promise((r) => child!.once('exit', r));
  child.kill('SIGKILL');
  await gone;
  return { pid, dir, relayPid: child.pid! };
}

it('a kill -9ed relay with the live output: its ffmpeg ends by itself (the fMP4 pipe breaks); the next start removes the directory', async () => {
  const root = path.join(base, 'live');
  const { pid, dir } = await killedRelay(root, 'live');
  await waitFor('the orphaned ffmpeg to end', () => !isAlive(pid), 20_000);
  const next = createHlsRelay({ ffmpegPath: FFMPEG, rootDir: root });
  const result = await next.cleanupOrphans();
  expect(result.killed).toEqual([]);
  expect(result.removedDirs).toEqual([path.basename(path.dirname(dir))]);
  expect(readdirSync(root)).toEqual([]);
});

it('cleanupOrphans kills the ffmpeg a kill -9ed HLS-only relay left behind (found by its run id), and removes its directory', async () => {
  const root = path.join(base, 'hls');
  const { pid, dir, relayPid } = await killedRelay(root, 'hls-only');
  // Its ffmpeg outlives it: own process group, and ffmpeg ignores SIGPIPE on its progress pipe.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(isAlive(pid)).toBe(true);

  const next = createHlsRelay({ ffmpegPath: FFMPEG, rootDir: root });
  const result = await next.cleanupOrphans();
  expect(result.killed).toEqual([pid]);
  expect(isAlive(pid)).toBe(false);
  // The dead relay's run directory (run-<pid>-<start time>) held the stream; it is gone with its pid files.
  expect(result.removedDirs).toEqual([path.basename(path.dirname(dir))]);
  expect(path.basename(path.dirname(dir))).toMatch(new RegExp(`^run-${relayPid}-\\d+$`));
  expect(readdirSync(root)).toEqual([]);
  expect(readdirSync(next.pidDir)).toEqual([]);
  // Nothing left to do the second time.
  expect(await next.cleanupOrphans()).toEqual({ killed: [], removedDirs: [], skipped: [] });
});
