/**
 * The live timeline (issue 18) over real loopback RTSP: sessions of one camera profile share one stream and
 * a new one joins mid-GOP, waiting for the next keyframe, unless the camera has `idrOnConnect`; every frame
 * carries its capture time in a SEI and burnt into the picture. Frames are compared by their timeline frame
 * number and RTP timestamp, not by how fast a loaded machine delivers them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';
import { NAL, nalType } from './h264.ts';
import { defaultCameraSpecs, startSimulator, type SimCameraInfo, type Simulator } from './index.ts';
import { annexB, framesOf, RawRtsp, sleep, soap, type ReceivedFrame } from './test-support.ts';
import { PROFILE_TOKENS } from './onvif-bodies.ts';
import { readClockBand } from './wallclock.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const SUB = { width: 320, height: 180, fps: 15, bitrateKbps: 300 };
/** The cameras' addresses: a block of this run's own (issue 12), claimed before the simulator starts. */
let block: LoopbackBlock;
const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-live-'));
let sim: Simulator;
/** 2 s GOP, joins mid-GOP (the default). */
let midGop: SimCameraInfo;
/** 2 s GOP, sends a new session an IDR at once. */
let idrCam: SimCameraInfo;
/** The simulator's default GOP (1 s). */
let plain: SimCameraInfo;
/** 4 s GOP, joins mid-GOP: asked for synchronization points. */
let syncCam: SimCameraInfo;
const open: RawRtsp[] = [];

beforeAll(async () => {
  block = await claimLoopbackBlock();
  const specs = defaultCameraSpecs(4, { firstIp: block.host(1) }).map((s) => ({ ...s, clockOffsetSec: 0, faults: {} }));
  specs[0] = { ...specs[0]!, keyframeIntervalSec: 2 };
  specs[1] = { ...specs[1]!, keyframeIntervalSec: 2, idrOnConnect: true };
  specs[3] = { ...specs[3]!, keyframeIntervalSec: 4 };
  sim = await startSimulator({
    cameras: specs,
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipDir,
    clipSeconds: 2,
    streamOverrides: { main: { width: 320, height: 180, fps: 25, bitrateKbps: 400 }, sub: SUB },
    log: () => undefined,
  });
  [midGop, idrCam, plain, syncCam] = sim.cameras as [SimCameraInfo, SimCameraInfo, SimCameraInfo, SimCameraInfo];
});

afterAll(async () => {
  for (const c of open) c.close();
  await sim?.stop();
  await block?.release();
  rmSync(clipDir, { recursive: true, force: true });
});

async function connect(cam: SimCameraInfo): Promise<RawRtsp> {
  const c = await RawRtsp.connect(cam.host, cam.rtspPort);
  open.push(c);
  return c;
}

async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the timeline is a few frames past a keyframe, so the next one is most of a GOP away. */
async function justAfterKeyframe(cam: SimCameraInfo): Promise<void> {
  const t = sim.timeline(cam.code, 'sub');
  await until('a moment just after a keyframe', () => {
    const phase = t.frameAt(performance.now()) % t.gopFrames;
    return phase >= 2 && phase <= 4;
  });
}

/** PLAY with the timeline frames due when it was sent and when its answer came. */
async function playNow(c: RawRtsp, cam: SimCameraInfo, session: string) {
  const t = sim.timeline(cam.code, 'sub');
  const sent = t.frameAt(performance.now());
  const r = await c.request('PLAY', cam.subStreamUri, { Session: session, Range: 'npt=0.000-' });
  expect(r.status).toBe(200);
  return { sent, answered: t.frameAt(performance.now()) };
}

const clockOf = (f: ReceivedFrame) => {
  expect(f.clock, 'every picture carries the clock SEI').toBeDefined();
  return f.clock!;
};

describe('one live timeline per camera profile', () => {
  it('two sessions opened 300 ms apart receive the same frames, with the same timestamps, at the same time', async () => {
    const a = await connect(plain);
    const b = await connect(plain);
    await a.play(plain.subStreamUri);
    await sleep(300);
    await b.play(plain.subStreamUri);
    await until('20 pictures on the later session', () => framesOf(b.packets).length >= 20);
    await sleep(200);
    const fa = framesOf(a.packets);
    const fb = framesOf(b.packets).slice(0, 20);
    const byFrame = new Map(fa.map((f) => [clockOf(f).frame, f]));
    const frameMs = 1000 / SUB.fps;
    for (const f of fb) {
      const same = byFrame.get(clockOf(f).frame);
      expect(same, `frame ${clockOf(f).frame} reached the earlier session too`).toBeDefined();
      expect(same!.timestamp).toBe(f.timestamp);
      expect(same!.clock!.wallClockMs).toBe(f.clock!.wallClockMs);
      expect(same!.nals.filter((n) => nalType(n) !== NAL.SEI)).toEqual(f.nals.filter((n) => nalType(n) !== NAL.SEI));
      // Sent in the same tick: both arrive within one frame interval of each other.
      expect(Math.abs(same!.receivedPerf - f.receivedPerf)).toBeLessThan(frameMs);
    }
    // Consecutive frames of one timeline, both starting on a keyframe.
    expect(fa[0]!.idr && fb[0]!.idr).toBe(true);
    const ns = fb.map((f) => clockOf(f).frame);
    expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
  });

  it('a session opened mid-GOP receives no picture before the next keyframe', async () => {
    const t = sim.timeline(midGop.code, 'sub');
    expect(t.gopFrames).toBe(30); // 2 s at 15 fps
    const watcher = await connect(midGop);
    await watcher.play(midGop.subStreamUri);
    await until('the watcher to see the stream', () => framesOf(watcher.packets).length > 0);
    const late = await connect(midGop);
    const { session } = await late.setup(midGop.subStreamUri);
    await justAfterKeyframe(midGop);
    const played = await playNow(late, midGop, session);
    await until('a picture on the late session', () => late.packets.length > 0);
    await sleep(300);
    const first = framesOf(late.packets)[0]!;
    const n = clockOf(first).frame;
    // Its first picture is the timeline's next keyframe after PLAY (SPS, PPS first), nothing before it.
    expect(first.idr).toBe(true);
    expect(nalType(late.packets[0]!.payload)).toBe(NAL.SPS);
    expect(n % t.gopFrames).toBe(0);
    expect(t.isKeyframe(n)).toBe(true);
    expect(n).toBeGreaterThan(played.sent);
    expect(n - t.gopFrames).toBeLessThanOrEqual(played.answered);
    // The frames between PLAY and that keyframe existed (the watcher got them) but were not sent to it.
    const seen = new Set(framesOf(watcher.packets).map((f) => clockOf(f).frame));
    for (let k = played.answered + 1; k < n; k++) expect(seen.has(k), `frame ${k} on the watcher`).toBe(true);
    expect(n - played.answered).toBeGreaterThan(t.gopFrames / 2);
  });

  it('unless the camera has idrOnConnect: then its first picture is an IDR at once, and its GOP runs from there', async () => {
    const t = sim.timeline(idrCam.code, 'sub');
    const c = await connect(idrCam);
    const { session } = await c.setup(idrCam.subStreamUri);
    await justAfterKeyframe(idrCam);
    const played = await playNow(c, idrCam, session);
    await until('two keyframes', () => framesOf(c.packets).filter((f) => f.idr).length >= 2, 20_000);
    const frames = framesOf(c.packets);
    const n = clockOf(frames[0]!).frame;
    expect(frames[0]!.idr).toBe(true);
    // Long before the timeline's own next keyframe.
    const nextTimelineKeyframe = (Math.floor(played.answered / t.gopFrames) + 1) * t.gopFrames;
    expect(n).toBeLessThan(nextTimelineKeyframe);
    expect(n % t.gopFrames).not.toBe(0);
    const keyframes = frames.filter((f) => f.idr).map((f) => clockOf(f).frame);
    expect(keyframes[1]! - keyframes[0]!).toBe(30);
  });

  it('SetSynchronizationPoint (ONVIF Media): the next picture is an IDR for every session, and the GOP runs from it', async () => {
    const t = sim.timeline(syncCam.code, 'sub');
    expect(t.gopFrames).toBe(60); // 4 s at 15 fps
    const watcher = await connect(syncCam);
    await watcher.play(syncCam.subStreamUri);
    await until('the watcher to see the stream', () => framesOf(watcher.packets).length > 0);
    const late = await connect(syncCam);
    const { session } = await late.setup(syncCam.subStreamUri);
    await justAfterKeyframe(syncCam);
    const played = await playNow(late, syncCam, session);
    const asked = await soap(
      syncCam.mediaServiceUrl,
      `<SetSynchronizationPoint xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>${PROFILE_TOKENS.sub}</ProfileToken></SetSynchronizationPoint>`,
      { username: syncCam.username, password: syncCam.password },
    );
    expect(asked.status, asked.text).toBe(200);
    expect(asked.text).toContain('SetSynchronizationPointResponse');
    await until('two keyframes on the late session', () => framesOf(late.packets).filter((f) => f.idr).length >= 2);
    const frames = framesOf(late.packets);
    const n = clockOf(frames[0]!).frame;
    expect(frames[0]!.idr).toBe(true);
    // Before the timeline's own next keyframe (most of a 4 s GOP away when PLAY was sent).
    const natural = (Math.floor(played.sent / t.gopFrames) + 1) * t.gopFrames;
    expect(n).toBeLessThan(natural);
    expect(t.isKeyframe(n)).toBe(true);
    // One encoder: the session already watching got that IDR at the same frame.
    const w = framesOf(watcher.packets).find((f) => clockOf(f).frame === n);
    expect(w?.idr).toBe(true);
    const keys = frames.filter((f) => f.idr).map((f) => clockOf(f).frame);
    expect(keys[1]! - keys[0]!).toBe(t.gopFrames);
    // A profile token the camera does not have is a fault, not a keyframe.
    const bad = await soap(
      syncCam.mediaServiceUrl,
      '<SetSynchronizationPoint xmlns="http://www.onvif.org/ver10/media/wsdl"><ProfileToken>nope</ProfileToken></SetSynchronizationPoint>',
      { username: syncCam.username, password: syncCam.password },
    );
    expect(bad.status).toBe(400);
  });

  it('keeps each camera’s keyframe interval (1–8 s) and reports it as the ONVIF GOV length', async () => {
    const c = await connect(midGop);
    await c.play(midGop.subStreamUri);
    await until('three keyframes', () => framesOf(c.packets).filter((f) => f.idr).length >= 3, 20_000);
    const keys = framesOf(c.packets)
      .filter((f) => f.idr)
      .map((f) => f.timestamp);
    expect(keys[1]! - keys[0]!).toBe(2 * 90000);
    expect(keys[2]! - keys[1]!).toBe(2 * 90000);
    const r = await soap(
      midGop.mediaServiceUrl,
      '<GetVideoEncoderConfigurations xmlns="http://www.onvif.org/ver10/media/wsdl"/>',
      { username: midGop.username, password: midGop.password },
    );
    expect(r.text).toContain('<tt:GovLength>30</tt:GovLength>');
    expect(midGop.keyframeIntervalSec).toBe(2);
    expect(plain.keyframeIntervalSec).toBe(1);
    for (const bad of [0.5, 9]) {
      await expect(
        startSimulator({
          cameras: defaultCameraSpecs(1, { firstIp: block.host(1) }).map((s) => ({ ...s, keyframeIntervalSec: bad })),
          clipDir,
        }),
      ).rejects.toThrow(/keyframeIntervalSec must be 1–8 s/);
    }
  });
});

describe('the wall-clock time stamped into every frame', () => {
  it('decodes back, from the SEI and from the picture, within one frame interval of when the frame left', async () => {
    const c = await connect(plain);
    await c.play(plain.subStreamUri);
    await until('40 pictures', () => framesOf(c.packets).length >= 40);
    c.close();
    const frames = framesOf(c.packets).slice(0, 40);
    const frameMs = 1000 / SUB.fps;
    // Consecutive frames, one frame interval apart.
    for (let i = 1; i < frames.length; i++) {
      expect(clockOf(frames[i]!).frame).toBe(clockOf(frames[i - 1]!).frame + 1);
      expect(clockOf(frames[i]!).wallClockMs - clockOf(frames[i - 1]!).wallClockMs).toBeCloseTo(frameMs, 2);
    }
    // Decode what arrived with ffmpeg and read the clock burnt into each picture.
    const { width: w, height: h } = SUB;
    const ff = spawn(FFMPEG, ['-v', 'error', '-f', 'h264', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
    const out: Buffer[] = [];
    let stderr = '';
    ff.stdout.on('data', (d: Buffer) => out.push(d));
    ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    ff.stdin.end(annexB(frames));
    const code = await new Promise<number | null>((r) => ff.on('close', r));
    expect(code, stderr).toBe(0);
    expect(stderr).toBe(''); // the simulator's own band slices decode cleanly
    const raw = Buffer.concat(out);
    expect(raw.length).toBe(frames.length * w * h);
    const late: number[] = [];
    frames.forEach((f, i) => {
      const burnt = readClockBand(raw.subarray(i * w * h, (i + 1) * w * h), w, h);
      expect(burnt, `clock legible in picture ${i}`).toBeDefined();
      // The picture shows the SEI's time, to the hundredth of a second it prints.
      expect(burnt!.wallClockMs).toBe(Math.floor(clockOf(f).wallClockMs / 10) * 10);
      // Stamped when it was captured, never after it arrived.
      expect(burnt!.wallClockMs).toBeLessThanOrEqual(f.receivedAt);
      late.push(f.receivedAt - burnt!.wallClockMs);
    });
    late.sort((a, b) => a - b);
    expect(late[Math.floor(late.length / 2)]!).toBeLessThan(frameMs);
  });
});
