/**
 * The relay's bookkeeping on fakes: a fake clock, fake ffmpeg processes and a real temporary directory in which
 * the test writes the segments ffmpeg would. Real ffmpeg runs in relay.integration.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFakeClock, createFakeRunner } from './fakes.ts';
import type { ProcessTable } from './process.ts';
import { createHlsRelay, RelayError, streamDirName, type HlsRelayOptions, type RelayStateEvent } from './relay.ts';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(path.dirname(r), { recursive: true, force: true })));

function setup(over: Partial<HlsRelayOptions> = {}) {
  const base = mkdtempSync(path.join(tmpdir(), 'ccc-relay-unit-'));
  const rootDir = path.join(base, 'hls');
  roots.push(rootDir);
  const clock = createFakeClock(Date.now());
  const runner = createFakeRunner();
  const events: RelayStateEvent[] = [];
  const relay = createHlsRelay({ ffmpegPath: '/usr/bin/ffmpeg', rootDir, runner, clock, ...over });
  relay.on('state', (e) => events.push(e));
  /** What ffmpeg would write: segment `n` finished now, and a playlist listing it. */
  const writeSegment = (dir: string, n: number, content: Buffer | string = 'ts') => {
    mkdirSync(dir, { recursive: true });
    const name = `seg_${String(n).padStart(5, '0')}.ts`;
    writeFileSync(path.join(dir, name), content);
    const t = new Date(clock.now());
    utimesSync(path.join(dir, name), t, t);
    writeFileSync(path.join(dir, 'index.m3u8'), `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${n}\n#EXTINF:1.000000,\n${name}\n`);
  };
  /** Advances the fake clock in small steps, giving real file I/O (readdir, stat) time to finish in between. */
  const tick = async (ms: number) => {
    for (let done = 0; done < ms; done += 100) {
      await clock.advance(Math.min(100, ms - done));
      await new Promise((r) => setTimeout(r, 3));
    }
  };
  /** Ticks until `cond` holds (at most `maxMs` of fake time): a loaded machine may finish I/O a tick later. */
  const until = async (what: string, cond: () => unknown, maxMs: number) => {
    for (let done = 0; ; done += 100) {
      if (cond()) return;
      if (done >= maxMs) {
        // Out of fake time: on a loaded machine the relay's real file I/O (readdir, stat) may still be
        // in flight. Give it real time, moving the fake clock on only in small steps, before failing.
        for (let i = 0; i < 60 && !cond(); i++) {
          await new Promise((r) => setTimeout(r, 50));
          if (i % 5 === 4) await tick(100);
        }
        if (cond()) return;
        throw new Error(`not within ${maxMs} ms of fake time: ${what}`);
      }
      await tick(100);
    }
  };
  return { relay, runner, clock, events, rootDir, writeSegment, tick, until };
}

const H264 = { url: 'rtsp://127.0.0.1:8554/Streaming/Channels/101', codec: 'h264', audio: 'none' } as const;
const H265 = { url: 'rtsp://127.0.0.2:8554/Streaming/Channels/101', codec: 'h265', audio: 'none' } as const;

describe('HLS relay (fake processes)', () => {
  it('runs one ffmpeg per key however many viewers acquire it', async () => {
    const t = setup();
    const [a, b] = await Promise.all([t.relay.acquire('cam1', H264), t.relay.acquire('cam1', H264)]);
    const c = await t.relay.acquire('cam1', H264);
    expect(t.runner.children).toHaveLength(1);
    expect(a.dir).toBe(b.dir);
    expect(c.dir).toBe(path.join(t.relay.runDir, streamDirName('cam1')));
    expect(path.dirname(t.relay.runDir)).toBe(t.rootDir);
    expect(t.runner.children[0]!.args).toContain(path.join(a.dir, 'index.m3u8'));
    await t.relay.acquire('cam2', { ...H264, url: 'rtsp://127.0.0.3/x' });
    expect(t.runner.running()).toHaveLength(2);
    await t.relay.stopAll();
    expect(t.runner.running()).toHaveLength(0);
  });

  it('refuses a source URL ffmpeg could misread', async () => {
    const t = setup();
    await expect(t.relay.acquire('x', { ...H264, url: 'concat:/etc/passwd|/etc/shadow' })).rejects.toMatchObject({
      code: 'invalid-source',
    });
    expect(t.runner.children).toHaveLength(0);
  });

  it('waitForPlaylist resolves once a segment is listed; the stream goes live on its own output', async () => {
    const t = setup();
    const s = await t.relay.acquire('cam1', H264);
    const waiting = t.relay.waitForPlaylist('cam1', 10_000);
    await t.tick(1_000);
    t.writeSegment(s.dir, 0);
    await t.until('live', () => t.relay.status('cam1')?.state === 'live', 2_000);
    await expect(waiting).resolves.toMatchObject({ segments: [{ uri: 'seg_00000.ts' }] });
    expect(t.relay.status('cam1')).toMatchObject({ state: 'live', pid: t.runner.children[0]!.pid, transcode: false });
    await t.relay.stopAll();
  });

  it('waitForPlaylist rejects with the reason when ffmpeg fails before any output', async () => {
    const t = setup();
    await t.relay.acquire('cam1', H264);
    const waiting = expect(t.relay.waitForPlaylist('cam1', 10_000)).rejects.toThrow(/Connection refused/);
    t.runner.children[0]!.writeStderr('rtsp://127.0.0.1:8554/Streaming/Channels/101: Connection refused\n');
    t.runner.children[0]!.exit({ code: 1 });
    await t.tick(10);
    await waiting;
    await expect(t.relay.waitForPlaylist('cam1', 1_000)).rejects.toMatchObject({ code: 'stream-error' });
    await t.relay.stopAll();
  });

  it('stops an idle stream, kills its process and deletes its directory; touches keep it', async () => {
    const t = setup({ idleTimeoutMs: 30_000 });
    const s = await t.relay.acquire('cam1', H264);
    t.writeSegment(s.dir, 0);
    // 60 s of segments every second and a viewer fetching every 10 s: no idle stop.
    for (let i = 1; i <= 60; i++) {
      await t.tick(1_000);
      t.writeSegment(s.dir, i);
      if (i % 10 === 0) expect(t.relay.touch('cam1')).toBe(true);
    }
    expect(t.runner.children[0]!.exited).toBe(false);
    // Nobody fetches any more (ffmpeg keeps writing): stopped 30 s after the last touch.
    for (let i = 61; i <= 89; i++) {
      await t.tick(1_000);
      if (!t.runner.children[0]!.exited) t.writeSegment(s.dir, i);
    }
    expect(t.runner.children[0]!.exited).toBe(false);
    await t.until('idle stop', () => t.events.at(-1)?.state === 'stopped', 3_000);
    expect(t.runner.children).toHaveLength(1);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    expect(existsSync(s.dir)).toBe(false);
    expect(t.relay.status('cam1')).toBeUndefined();
    expect(t.relay.touch('cam1')).toBe(false);
    expect(t.events.at(-1)).toMatchObject({ key: 'cam1', state: 'stopped' });
    expect(readdirSync(path.join(t.relay.pidDir, path.basename(t.relay.runDir)))).toEqual([]);
  });

  it('limits H.265 re-encodes; a waiting stream starts when a slot frees', async () => {
    const t = setup({ maxTranscodes: 1 });
    await t.relay.acquire('a', H265);
    expect(t.runner.children[0]!.args).toContain('libx264');
    await t.relay.acquire('b', { ...H265, url: 'rtsp://127.0.0.9/x' });
    expect(t.runner.children).toHaveLength(1);
    expect(t.relay.status('b')).toMatchObject({
      state: 'error',
      reason: expect.stringMatching(/transcode limit reached/),
    });
    await expect(t.relay.waitForPlaylist('b', 5_000)).rejects.toThrow(/transcode limit reached/);
    // H.264 copies do not count.
    await t.relay.acquire('c', H264);
    expect(t.runner.children).toHaveLength(2);
    await t.relay.stop('a');
    expect(t.runner.children).toHaveLength(3);
    // RTSP is read through the loopback source proxy: the camera's address is the stream's source.
    expect(t.relay.status('b')!.source).toBe('rtsp://127.0.0.9/x');
    expect(t.runner.children[2]!.args.some((a) => /^rtsp:\/\/127\.0\.0\.1:\d+\/[\w-]+\/x$/.test(a))).toBe(true);
    expect(t.relay.status('b')).toMatchObject({ state: 'starting', transcode: true });
    await t.relay.stopAll();
  });

  it('a restart continues the segment numbering with a discontinuity', async () => {
    const t = setup({ listSize: 6 });
    const s = await t.relay.acquire('cam1', H264);
    for (let n = 0; n < 12; n++) t.writeSegment(s.dir, n);
    await t.until('live', () => t.relay.status('cam1')?.state === 'live', 2_000);
    t.runner.children[0]!.exit({ signal: 'SIGKILL' });
    await t.until('restart', () => t.runner.children.length === 2, 2_000);
    const args = t.runner.children[1]!.args;
    expect(args[args.indexOf('-start_number') + 1]).toBe('12');
    expect(args[args.indexOf('-hls_flags') + 1]).toMatch(/\+discont_start$/);
    // Older segments than a playlist's worth are pruned.
    expect(readdirSync(s.dir).filter((f) => f.startsWith('seg_')).length).toBeLessThanOrEqual(8);
    await t.relay.stopAll();
  });

  it('a source declared "unknown" that turns out H.265 is restarted as a re-encode', async () => {
    const t = setup();
    const s = await t.relay.acquire('cam1', { ...H264, codec: 'unknown' });
    expect(t.runner.children[0]!.args).toContain('copy');
    t.writeSegment(s.dir, 0, hevcTsHead());
    await t.until('restart as a re-encode', () => t.runner.children.length === 2, 3_000);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    expect(t.runner.children).toHaveLength(2);
    expect(t.runner.children[1]!.args).toContain('libx264');
    expect(t.relay.status('cam1')).toMatchObject({ codec: 'h265', transcode: true });
    await t.relay.stopAll();
  });

  it('cleanupOrphans kills only verified ffmpeg of dead owners, keeps live owners, removes stale dirs', async () => {
    const t = setup();
    const { rootDir } = t;
    const pidDir = `${rootDir}.pids`;
    mkdirSync(pidDir, { recursive: true });
    const dirOf = (n: string) => path.join(rootDir, n);
    for (const n of ['orphan', 'reused', 'alive', 'junk']) mkdirSync(dirOf(n), { recursive: true });
    const rec = (pid: number, dir: string, owner: number, ownerStartTime: number) =>
      JSON.stringify({ pid, dir, key: dir, owner, ownerStartTime, startedAt: 0 });
    writeFileSync(path.join(pidDir, 'orphan.json'), rec(5001, dirOf('orphan'), 900, 11));
    writeFileSync(path.join(pidDir, 'reused.json'), rec(5002, dirOf('reused'), 900, 11));
    writeFileSync(path.join(pidDir, 'alive.json'), rec(5003, dirOf('alive'), 901, 12));
    writeFileSync(path.join(pidDir, 'broken.json'), '{');
    const live = new Set([5001, 5002, 5003, 901]);
    const signalled: Array<[number, string]> = [];
    const processes: ProcessTable = {
      cmdline: (pid) =>
        pid === 5001
          ? ['/usr/bin/ffmpeg', '-i', 'rtsp://x', path.join(dirOf('orphan'), 'index.m3u8')]
          : pid === 5002
            ? ['/bin/bash'] // pid reused by something else: never killed
            : null,
      stat: (pid) => (live.has(pid) ? { ppid: 1, pgrp: pid, startTime: pid === 901 ? 12 : 1 } : null),
      signalGroup: (pid, sig) => {
        signalled.push([pid, sig]);
        live.delete(pid);
        return true;
      },
      findByName: () => [],
    };
    const relay = createHlsRelay({ ffmpegPath: 'ffmpeg', rootDir, processes, runner: t.runner, clock: t.clock });
    const result = await relay.cleanupOrphans();
    expect(signalled).toEqual([[5001, 'SIGKILL']]);
    expect(result.killed).toEqual([5001]);
    expect(result.skipped).toEqual(['alive.json']);
    expect(result.removedDirs.sort()).toEqual(['junk', 'orphan', 'reused']);
    expect(readdirSync(pidDir)).toEqual(['alive.json']);
    expect(readdirSync(rootDir)).toEqual(['alive']);
  });

  it('a changed source restarts the stream in place: same directory, numbering continued, new input', async () => {
    const t = setup();
    const s = await t.relay.acquire('cam1', H264);
    for (let n = 0; n < 5; n++) t.writeSegment(s.dir, n);
    await t.until('live', () => t.relay.status('cam1')?.state === 'live', 2_000);
    const again = await t.relay.acquire('cam1', { ...H264, url: 'rtsp://127.0.0.4:8554/other' });
    expect(again.dir).toBe(s.dir);
    expect(t.runner.children).toHaveLength(2);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    const args = t.runner.children[1]!.args;
    expect(args.some((a) => /^rtsp:\/\/127\.0\.0\.1:\d+\/[\w-]+\/other$/.test(a))).toBe(true);
    expect(args[args.indexOf('-start_number') + 1]).toBe('5');
    expect(t.events.map((e) => e.state)).not.toContain('stopped');
    expect(t.relay.status('cam1')).toMatchObject({ source: 'rtsp://127.0.0.4:8554/other', state: 'starting' });
    // The same input again is only a touch.
    await t.relay.acquire('cam1', { ...H264, url: 'rtsp://127.0.0.4:8554/other' });
    expect(t.runner.children).toHaveLength(2);
    await t.relay.stopAll();
  });

  it('a watched stream retries at least every 2 s; one nobody fetches falls back to the long tiers', async () => {
    const t = setup({ idleTimeoutMs: 600_000 });
    const s = await t.relay.acquire('cam1', H264);
    t.writeSegment(s.dir, 0);
    await t.until('live', () => t.relay.status('cam1')?.state === 'live', 2_000);
    const retries: number[] = [];
    t.relay.on('state', (e) => e.retryInMs !== undefined && retries.push(e.retryInMs));
    for (let i = 0; i < 6; i++) {
      t.relay.touch('cam1');
      t.runner.children.at(-1)!.exit({ code: 1 });
      const n = t.runner.children.length;
      await t.until('retry', () => t.runner.children.length > n, 3_000);
    }
    expect(retries).toEqual([500, 1_000, 2_000, 2_000, 2_000, 2_000]);
    expect(t.events.filter((e) => e.retryInMs !== undefined).every((e) => e.state === 'reconnecting')).toBe(true);
    await t.tick(15_000);
    t.runner.children.at(-1)!.exit({ code: 1 });
    await t.until('announced', () => retries.length === 7, 1_000);
    expect(retries.at(-1)).toBe(30_000);
    // A health check saw the camera: the wait ends now.
    const n = t.runner.children.length;
    expect(t.relay.retryNow('cam1')).toBe(true);
    expect(t.runner.children).toHaveLength(n + 1);
    expect(t.relay.retryNow('nope')).toBe(false);
    await t.relay.stopAll();
  });

  it('after close nothing starts: acquire rejects, and an acquire still opening its source spawns nothing', async () => {
    const t = setup();
    const pending = t.relay.acquire('cam1', { ...H264, credentials: { username: 'admin', password: 'pw' } });
    const closing = t.relay.close();
    await expect(pending).rejects.toMatchObject({ code: 'stopped' });
    await closing;
    await expect(t.relay.acquire('cam2', H264)).rejects.toMatchObject({ code: 'stopped' });
    expect(t.runner.children).toHaveLength(0);
  });

  it('credentials never reach ffmpeg: the source is read through the loopback proxy; RTMP with credentials is refused', async () => {
    const t = setup();
    await t.relay.acquire('cam1', { ...H264, credentials: { username: 'admin', password: 'S3cret!' } });
    const args = t.runner.children[0]!.args;
    const url = args[args.indexOf('-i') + 1]!;
    expect(url).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/[\w-]{20,}\/Streaming\/Channels\/101$/);
    expect(args.join(' ')).not.toMatch(/S3cret|admin/);
    expect(args[args.indexOf('-rtsp_transport') + 1]).toBe('tcp');
    await expect(
      t.relay.acquire('cam2', {
        url: 'rtmp://10.0.0.1/live/a',
        codec: 'h264',
        audio: 'none',
        credentials: { username: 'u', password: 'p' },
      }),
    ).rejects.toMatchObject({ code: 'invalid-source' });
    await t.relay.close();
  });

  it('cleanupOrphans kills the ffmpeg of dead runs, by pid file and by run id in the command line; live runs stay', async () => {
    const t = setup();
    const { rootDir } = t;
    const pidDir = `${rootDir}.pids`;
    const dead = 'run-900-11';
    const live = 'run-901-12';
    for (const r of [dead, live]) {
      mkdirSync(path.join(rootDir, r, 'cam-a'), { recursive: true });
      mkdirSync(path.join(pidDir, r), { recursive: true });
    }
    const rec = (pid: number, run: string) =>
      JSON.stringify({
        pid,
        dir: path.join(rootDir, run, 'cam-a'),
        key: 'a',
        owner: 0,
        ownerStartTime: 0,
        startedAt: 0,
      });
    writeFileSync(path.join(pidDir, dead, 'cam-a.json'), rec(5001, dead));
    writeFileSync(path.join(pidDir, dead, 'cam-b.json'), rec(5002, dead));
    writeFileSync(path.join(pidDir, live, 'cam-a.json'), rec(5003, live));
    const alive = new Set([5001, 5002, 5003, 5004, 901]);
    const ffmpegIn = (run: string) => [
      '/usr/bin/ffmpeg',
      '-i',
      'rtsp://127.0.0.1:1/t/x',
      path.join(rootDir, run, 'cam-a', 'index.m3u8'),
    ];
    const signalled: number[] = [];
    const processes: ProcessTable = {
      cmdline: (pid) =>
        pid === 5001 || pid === 5004
          ? ffmpegIn(dead)
          : pid === 5002
            ? ['/bin/bash']
            : pid === 5003
              ? ffmpegIn(live)
              : null,
      stat: (pid) => (alive.has(pid) ? { ppid: 1, pgrp: pid, startTime: pid === 901 ? 12 : 1 } : null),
      signalGroup: (pid) => {
        signalled.push(pid);
        alive.delete(pid);
        return true;
      },
      // 5004 has no pid file (it was being written when the relay died): found by the run id in its argv.
      findByName: () => [5001, 5002, 5003, 5004],
    };
    const relay = createHlsRelay({ ffmpegPath: 'ffmpeg', rootDir, processes, runner: t.runner, clock: t.clock });
    const result = await relay.cleanupOrphans();
    expect(signalled.sort()).toEqual([5001, 5004]);
    expect(result.killed.sort()).toEqual([5001, 5004]);
    expect(result.skipped).toEqual([live]);
    expect(result.removedDirs).toEqual([dead]);
    expect(readdirSync(rootDir)).toEqual([live]);
    expect(readdirSync(pidDir)).toEqual([live]);
  });

  it('RelayError carries a code', () => {
    expect(new RelayError('timeout', 'x')).toMatchObject({ code: 'timeout', name: 'RelayError', message: 'x' });
  });
});

/** PAT + PMT of a program with one H.265 stream, as the first packets of an HLS segment. */
function hevcTsHead(): Buffer {
  const pkt = (pid: number, section: number[]) => {
    const p = Buffer.alloc(188, 0xff);
    p.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10, 0x00, ...section]);
    return p;
  };
  return Buffer.concat([
    pkt(0, [0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe1, 0x00, 0, 0, 0, 0]),
    pkt(0x100, [0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0, 0x24, 0xe1, 0x00, 0xf0, 0, 0, 0, 0, 0]),
  ]);
}
