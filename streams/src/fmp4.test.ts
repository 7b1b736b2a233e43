/**
 * The fMP4 parser and the live feed (issue 15) on real ffmpeg output: the mp4 muxer with the relay's own
 * live-output flags (`buildLiveOutputArgs`), written to a pipe.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLiveOutputArgs } from './args.ts';
import { BoxSplitter, Fmp4Assembler, codecOfInit, describeMoof, isSyncSampleFlags, type Fmp4Event } from './fmp4.ts';
import { createLiveFeed, type LiveFragment, type LiveSink } from './live-feed.ts';
import { FFMPEG, probeVideo } from './test-support.ts';

let dir: string;
/** 3 s of 10 fps H.264 baseline, a keyframe every 10 frames, through the live output's flags. */
let h264: Buffer;
let h265: Buffer;

/** The live output's arguments, with stdout instead of the relay's fd 3. */
const liveToStdout = () => buildLiveOutputArgs(3).map((a) => (a === 'pipe:3' ? 'pipe:1' : a));

function encode(codec: string[]): Buffer {
  const src = path.join(dir, `src-${codec[1]}.ts`);
  // prettier-ignore
  execFileSync(FFMPEG, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '3',
    ...codec, '-bf', '0', '-g', '10', '-sc_threshold', '0', '-f', 'mpegts', '-y', src,
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  return execFileSync(FFMPEG, ['-v', 'error', '-i', src, ...liveToStdout()], { maxBuffer: 64 * 1024 * 1024 });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ccc-fmp4-'));
  h264 = encode(['-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.0', '-pix_fmt', 'yuv420p']);
  // x265 writes its banner to stderr whatever the log level; only its bytes on stdout matter here.
  h265 = encode(['-c:v', 'libx265', '-x265-params', 'log-level=none:keyint=10:min-keyint=10:scenecut=0']);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (bytes: Buffer, chunk = bytes.length) => {
  const a = new Fmp4Assembler();
  const out: Fmp4Event[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(...a.push(bytes.subarray(i, i + chunk)));
  return out;
};

describe('Fmp4Assembler on ffmpeg output', () => {
  it('gives the init segment first with its codec, then one fragment per frame, keyframes every GOP', () => {
    const ev = events(h264);
    expect(ev[0]).toMatchObject({ kind: 'init', codec: 'avc1.42c01e' });
    const frags = ev.filter((e) => e.kind === 'fragment');
    expect(ev.filter((e) => e.kind === 'init')).toHaveLength(1);
    expect(frags).toHaveLength(30);
    const keys = frags.flatMap((f, i) => (f.keyframe ? [i] : []));
    expect(keys).toEqual([0, 10, 20]);
    // Decode times rise frame by frame.
    const times = frags.map((f) => f.decodeTime!);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
  });

  it('finds the same boxes however the bytes are chunked (1, 7, 4096 bytes)', () => {
    const whole = events(h264).map((e) => [e.kind, e.data.length, e.kind === 'fragment' ? e.keyframe : e.codec]);
    for (const n of [1, 7, 4096]) {
      expect(events(h264, n).map((e) => [e.kind, e.data.length, e.kind === 'fragment' ? e.keyframe : e.codec])).toEqual(
        whole,
      );
    }
  });

  it('init + fragments from a keyframe mid-stream decode (what a warm viewer gets)', async () => {
    const ev = events(h264);
    const init = ev[0]!.data;
    const frags = ev.filter((e) => e.kind === 'fragment');
    const file = path.join(dir, 'warm.mp4');
    writeFileSync(file, Buffer.concat([init, ...frags.slice(10).map((f) => f.data)]));
    const v = await probeVideo(file);
    expect(v).toMatchObject({ codec: 'h264', width: 320, height: 180, frames: 20 });
  });

  it('names H.265 with the RFC 6381 string MediaSource takes', () => {
    const ev = events(h265);
    expect(ev[0]!.kind).toBe('init');
    expect((ev[0] as { codec: string }).codec).toMatch(/^hev1\.1\.6\.L\d+(\.[0-9A-F]{1,2})*$/);
    expect(ev.filter((e) => e.kind === 'fragment' && e.keyframe).length).toBe(3);
  });

  it('refuses a byte stream that is not MP4 boxes', () => {
    expect(() => new BoxSplitter().push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toThrow(/impossible size/);
  });

  it('reads sample flags as ISO/IEC 14496-12 defines them', () => {
    // prettier-ignore
    const table: Array<[number, boolean]> = [
      [0x02000000, true],  // depends on no other sample (ffmpeg's keyframe)
      [0x01010000, false], // depends on others, non-sync (ffmpeg's other frames)
      [0x00000000, true],  // nothing said
      [0x00010000, false], // non-sync only
    ];
    for (const [flags, sync] of table) expect(isSyncSampleFlags(flags)).toBe(sync);
    expect(codecOfInit(Buffer.from('not an init segment at all'))).toBeUndefined();
    const moof = events(h264).find((e) => e.kind === 'fragment')!.data;
    expect(describeMoof(moof).samples).toBe(1);
  });
});

/** A sink that never drains: what it was given stays "buffered" (a browser that stopped reading). */
function stuckSink() {
  const got: Array<{ kind: 'init' | 'fragment'; f?: LiveFragment }> = [];
  let buffered = 0;
  const gaps: number[] = [];
  const sink: LiveSink = {
    init: () => void got.push({ kind: 'init' }),
    fragment: (f) => {
      got.push({ kind: 'fragment', f });
      buffered += f.data.length;
    },
    buffered: () => buffered,
    gap: (n) => void gaps.push(n),
  };
  return { sink, got, gaps, drain: () => (buffered = 0), buffered: () => buffered };
}

describe('live feed', () => {
  it('starts a viewer who joins mid-GOP at the GOP keyframe (warm start), then live', () => {
    const feed = createLiveFeed();
    const ev = events(h264);
    const frags = ev.filter((e) => e.kind === 'fragment');
    feed.write(ev[0]!.data);
    for (const f of frags.slice(0, 14)) feed.write(f.data);
    const s = stuckSink();
    feed.subscribe(s.sink);
    // init, then frames 10..13 at once (the cached GOP from its keyframe)
    expect(s.got.map((g) => g.kind)).toEqual(['init', 'fragment', 'fragment', 'fragment', 'fragment']);
    expect(s.got[1]!.f!.keyframe).toBe(true);
    expect(s.got[1]!.f!.data.equals(frags[10]!.data)).toBe(true);
    feed.write(frags[14]!.data);
    expect(s.got).toHaveLength(6);
    expect(feed.stats()).toMatchObject({ subscribers: 1, hasInit: true, codec: 'avc1.42c01e', gopFragments: 5 });
  });

  it('a viewer that never reads is held to its cap: drops until a keyframe fits, never more than cap + a fragment', () => {
    const ev = events(h264);
    const frags = ev.filter((e) => e.kind === 'fragment');
    const biggest = Math.max(...frags.map((f) => f.data.length));
    const cap = 3 * biggest;
    const feed = createLiveFeed({ maxQueueBytes: cap });
    feed.write(ev[0]!.data);
    const s = stuckSink();
    const sub = feed.subscribe(s.sink);
    for (let round = 0; round < 5; round++) for (const f of frags) feed.write(f.data);
    expect(s.buffered()).toBeLessThanOrEqual(cap);
    expect(sub.stats.maxBuffered).toBeLessThanOrEqual(cap);
    expect(sub.stats.droppedFragments).toBeGreaterThan(100);
    // Once it reads again it is given a keyframe first, after a gap notice.
    s.drain();
    const before = s.got.length;
    for (const f of frags.slice(0, 12)) feed.write(f.data);
    const after = s.got.slice(before);
    expect(after[0]!.f!.keyframe).toBe(true);
    expect(s.gaps.length).toBeGreaterThan(0);
  });

  it('a restarted ffmpeg gives subscribers the new init, then fragments from its first keyframe only', () => {
    const ev = events(h264);
    const frags = ev.filter((e) => e.kind === 'fragment');
    const feed = createLiveFeed();
    const s = stuckSink();
    feed.subscribe(s.sink);
    feed.write(ev[0]!.data);
    feed.write(frags[0]!.data);
    feed.restart();
    // The new process's bytes: a new init, then a join two frames into a GOP.
    feed.write(ev[0]!.data);
    for (const f of frags.slice(2, 12)) feed.write(f.data);
    const kinds = s.got.map((g) => (g.kind === 'init' ? 'init' : g.f!.keyframe ? 'key' : 'p'));
    expect(kinds.slice(0, 4)).toEqual(['init', 'key', 'init', 'key']);
  });

  it('ends its subscribers when the stream stops; a later subscriber is told at once', async () => {
    const feed = createLiveFeed();
    const ended: string[] = [];
    const sink: LiveSink = { init() {}, fragment() {}, buffered: () => 0, end: (r) => void ended.push(r) };
    feed.subscribe(sink);
    const waiting = feed.waitForInit(10_000);
    feed.end('stopped');
    expect(await waiting).toBe(false);
    feed.subscribe(sink);
    expect(ended).toEqual(['stopped', 'stopped']);
    expect(feed.stats().subscribers).toBe(0);
  });

  it('garbage from a process is ignored until the next one', () => {
    const errors: Error[] = [];
    const feed = createLiveFeed({ onError: (e) => void errors.push(e) });
    feed.write(Buffer.from('\x00\x00\x00\x02junk'));
    feed.write(events(h264)[0]!.data);
    expect(feed.stats().hasInit).toBe(false);
    feed.restart();
    feed.write(events(h264)[0]!.data);
    expect(feed.stats().hasInit).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
