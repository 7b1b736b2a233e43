/**
 * Profile G on the simulated camera (issue 14): its recording is found by the search service (FindRecordings,
 * FindEvents with RecordingHistory track states showing the gaps), the replay URI by the replay service, and
 * RTSP replay starts at the asked clock time, skips gaps and plays faster at `Scale: 4` — judged by the
 * recorded time each frame carries (SEI and the burnt-in band) against its RTP time, never by wall time.
 * The `onvif` npm library (written by others) reads the same services.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';
import { defaultCameraSpecs, startSimulator, type SimCameraInfo, type Simulator } from './index.ts';
import { compactClock, parseReplayRange } from './recordings.ts';
import { annexB, framesOf, RawRtsp, soap, type ReceivedFrame } from './test-support.ts';
import { readClockBand } from './wallclock.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const MAIN = { width: 320, height: 180, fps: 25, bitrateKbps: 400 };
const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-replay-'));
let block: LoopbackBlock;
let sim: Simulator;
let cam: SimCameraInfo;
let plain: SimCameraInfo;
const open: RawRtsp[] = [];
/** Gap 2 (the default): 50 min before start, 5 min long. */
let gapStart = 0;
let gapEnd = 0;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  const specs = defaultCameraSpecs(2, { firstIp: block.host(1) }).map((s) => ({
    ...s,
    clockOffsetSec: 0,
    faults: {},
  }));
  specs[1] = { ...specs[1]!, recording: false };
  const t0 = Date.now();
  sim = await startSimulator({
    cameras: specs,
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipDir,
    clipSeconds: 2,
    streamOverrides: { main: MAIN, sub: { width: 320, height: 180, fps: 15, bitrateKbps: 300 } },
    log: () => undefined,
  });
  [cam, plain] = sim.cameras as [SimCameraInfo, SimCameraInfo];
  // The gap of 5 min that began 50 min before the simulator's start, as the camera holds it (its start is a few
  // ms after t0: a frame in between is recorded, so the test reads the camera's own ranges, not t0's guess).
  const ranges = sim.recordedRanges(cam.code);
  const i = ranges.findIndex(([, b], k) => k + 1 < ranges.length && Math.abs(b - (t0 - 50 * 60_000)) < 60_000);
  if (i < 0) throw new Error(`no gap 50 min ago in ${JSON.stringify(ranges)}`);
  gapStart = ranges[i]![1];
  gapEnd = ranges[i + 1]![0];
  expect(gapEnd - gapStart).toBe(5 * 60_000);
});

afterAll(async () => {
  for (const c of open) c.close();
  await sim?.stop();
  await block?.release();
  rmSync(clipDir, { recursive: true, force: true });
});

const auth = () => ({ username: cam.username, password: cam.password });

async function replay(
  at: number,
  scale: number,
  frames: number,
): Promise<{ play: Record<string, string>; got: ReceivedFrame[] }> {
  const c = await RawRtsp.connect(cam.host, cam.rtspPort);
  open.push(c);
  const { session } = await c.setup(cam.replayUri!);
  const play = await c.request('PLAY', cam.replayUri!, {
    Session: session,
    Require: 'onvif-replay',
    Range: `clock=${compactClock(at)}-`,
    Scale: String(scale),
  });
  expect(play.status).toBe(200);
  const end = Date.now() + 20_000;
  while (framesOf(c.packets).length < frames && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  c.close();
  return { play: play.headers, got: framesOf(c.packets).slice(0, frames) };
}

const clockOf = (f: ReceivedFrame) => {
  expect(f.clock, 'every replayed picture carries the clock SEI').toBeDefined();
  return f.clock!.wallClockMs;
};

describe('Profile G services', () => {
  it('lists the search, recording and replay services only on cameras that record', async () => {
    const body =
      '<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"><IncludeCapability>false</IncludeCapability></GetServices>';
    const yes = await soap(cam.deviceServiceUrl, body);
    for (const ns of ['ver10/search/wsdl', 'ver10/recording/wsdl', 'ver10/replay/wsdl'])
      expect(yes.text).toContain(`<tds:Namespace>http://www.onvif.org/${ns}</tds:Namespace>`);
    const no = await soap(plain.deviceServiceUrl, body);
    expect(no.text).not.toContain('<tds:Namespace>http://www.onvif.org/ver10/replay/wsdl');
    expect(plain.replayUri).toBeUndefined();
    const find = await soap(
      plain.deviceServiceUrl.replace('device_service', 'search_service'),
      '<FindRecordings xmlns="http://www.onvif.org/ver10/search/wsdl"><Scope/><KeepAliveTime>PT10S</KeepAliveTime></FindRecordings>',
      { username: plain.username, password: plain.password },
    );
    expect(find.text).toContain('ter:ActionNotSupported');
  });

  it('finds the recording and, through RecordingHistory track states, its gaps', async () => {
    const search = cam.searchServiceUrl!;
    const find = await soap(
      search,
      '<FindRecordings xmlns="http://www.onvif.org/ver10/search/wsdl"><Scope/><MaxMatches>10</MaxMatches><KeepAliveTime>PT10S</KeepAliveTime></FindRecordings>',
      auth(),
    );
    const token = /<tse:SearchToken>([^<]+)</.exec(find.text)?.[1];
    expect(token, find.text).toBeDefined();
    const res = await soap(
      search,
      `<GetRecordingSearchResults xmlns="http://www.onvif.org/ver10/search/wsdl"><SearchToken>${token}</SearchToken><MaxResults>10</MaxResults><WaitTime>PT1S</WaitTime></GetRecordingSearchResults>`,
      auth(),
    );
    expect(res.text).toContain('<tt:SearchState>Completed</tt:SearchState>');
    expect(res.text).toContain('<tt:RecordingToken>Recording_1</tt:RecordingToken>');
    const earliest = Date.parse(/<tt:EarliestRecording>([^<]+)</.exec(res.text)![1]!);
    expect(Math.abs(earliest - (Date.now() - 24 * 3600_000))).toBeLessThan(120_000);

    const from = new Date(gapStart - 600_000).toISOString();
    const events = await soap(
      search,
      `<FindEvents xmlns="http://www.onvif.org/ver10/search/wsdl"><StartPoint>${from}</StartPoint><EndPoint>${new Date().toISOString()}</EndPoint>` +
        `<Scope><IncludedRecordings xmlns="http://www.onvif.org/ver10/schema">Recording_1</IncludedRecordings></Scope>` +
        `<SearchFilter><TopicExpression xmlns="http://docs.oasis-open.org/wsn/b-2" Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RecordingHistory/Track/State</TopicExpression></SearchFilter>` +
        `<IncludeStartState>true</IncludeStartState><KeepAliveTime>PT10S</KeepAliveTime></FindEvents>`,
      auth(),
    );
    const et = /<tse:SearchToken>([^<]+)</.exec(events.text)![1]!;
    const results = await soap(
      search,
      `<GetEventSearchResults xmlns="http://www.onvif.org/ver10/search/wsdl"><SearchToken>${et}</SearchToken><MaxResults>50</MaxResults></GetEventSearchResults>`,
      auth(),
    );
    const states = [
      ...results.text.matchAll(
        /<tt:Time>([^<]+)<\/tt:Time>.*?IsDataPresent" Value="(true|false)".*?<tt:StartStateEvent>(true|false)/g,
      ),
    ].map((m) => ({ at: Date.parse(m[1]!), present: m[2] === 'true', start: m[3] === 'true' }));
    expect(states).toEqual([
      { at: Math.floor((gapStart - 600_000) / 1000) * 1000, present: true, start: true },
      { at: Math.floor(gapStart / 1000) * 1000, present: false, start: false },
      { at: Math.floor(gapEnd / 1000) * 1000, present: true, start: false },
    ]);
  });

  it('reads Range clock times in both forms', () => {
    expect(parseReplayRange('clock=20260102T030405Z-')).toEqual({ kind: 'clock', ms: Date.UTC(2026, 0, 2, 3, 4, 5) });
    expect(parseReplayRange('clock=2026-01-02T03:04:05.5Z-2026-01-02T03:05:00Z')).toEqual({
      kind: 'clock',
      ms: Date.UTC(2026, 0, 2, 3, 4, 5, 500),
      endMs: Date.UTC(2026, 0, 2, 3, 5, 0),
    });
    expect(parseReplayRange('npt=0.000-')).toEqual({ kind: 'npt', sec: 0 });
    expect(parseReplayRange('clock=yesterday-')).toBeUndefined();
  });
});

describe('RTSP replay', () => {
  it('starts at the asked clock time (from the keyframe before it) and stamps the recorded time', async () => {
    const at = Date.now() - 20 * 60_000 + 437;
    const { play, got } = await replay(at, 1, 30);
    expect(play['range']).toMatch(/^clock=\d{8}T\d{6}\.\d{3}Z-$/);
    const first = clockOf(got[0]!);
    expect(got[0]!.idr).toBe(true);
    expect(first).toBeLessThanOrEqual(at);
    expect(at - first).toBeLessThan(1000); // one GOP at most
    for (let i = 1; i < got.length; i++) expect(clockOf(got[i]!) - clockOf(got[i - 1]!)).toBeCloseTo(40, 3);
    // The burnt-in band shows the recorded time too.
    const ff = spawn(FFMPEG, ['-v', 'error', '-f', 'h264', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
    const out: Buffer[] = [];
    ff.stdout.on('data', (d: Buffer) => out.push(d));
    ff.stdin.end(annexB(got));
    await new Promise((r) => ff.on('close', r));
    const raw = Buffer.concat(out);
    const { width: w, height: h } = MAIN;
    const burnt = readClockBand(raw.subarray(5 * w * h, 6 * w * h), w, h, w, clockOf(got[5]!));
    expect(burnt?.wallClockMs).toBe(Math.floor(clockOf(got[5]!) / 10) * 10);
  });

  it('at Scale 4 carries four recorded seconds per second of RTP time', async () => {
    const at = Date.now() - 30 * 60_000;
    const one = await replay(at, 1, 50);
    const four = await replay(at, 4, 50);
    expect(four.play['scale']).toBe('4');
    const rate = (fs: ReceivedFrame[]) => {
      const a = fs[0]!;
      const b = fs.at(-1)!;
      return (clockOf(b) - clockOf(a)) / (((b.timestamp - a.timestamp) >>> 0) / 90);
    };
    expect(rate(one.got)).toBeCloseTo(1, 2);
    expect(rate(four.got)).toBeCloseTo(4, 2);
  });

  it('starting inside a gap starts at its end; playing into a gap skips it', async () => {
    const inGap = await replay(gapStart + 60_000, 1, 5);
    expect(clockOf(inGap.got[0]!)).toBeGreaterThanOrEqual(gapEnd);
    expect(clockOf(inGap.got[0]!) - gapEnd).toBeLessThan(1000);
    const before = await replay(gapStart - 2_000, 8, 120);
    const times = before.got.map(clockOf);
    const jump = times.findIndex((t, i) => i > 0 && t - times[i - 1]! > 1000);
    expect(jump, 'the replay crossed the gap').toBeGreaterThan(0);
    expect(times[jump - 1]!).toBeLessThan(gapStart);
    expect(times[jump]!).toBeGreaterThanOrEqual(gapEnd);
    expect(before.got[jump]!.idr).toBe(true);
  });
});

describe('the onvif npm library against the simulator', () => {
  it('reads the recordings and the replay URI', async () => {
    const require = createRequire(import.meta.url);
    const { Cam } = require('onvif') as {
      Cam: new (
        o: Record<string, unknown>,
        cb: (err: Error | null) => void,
      ) => {
        getRecordings(cb: (err: Error | null, items: unknown) => void): void;
        getReplayUri(o: Record<string, unknown>, cb: (err: Error | null, uri: unknown) => void): void;
      };
    };
    const c = await new Promise<InstanceType<typeof Cam>>((resolve, reject) => {
      const x: InstanceType<typeof Cam> = new Cam(
        { hostname: cam.host, port: cam.onvifPort, username: cam.username, password: cam.password, timeout: 10_000 },
        (err) => (err ? reject(err) : resolve(x)),
      );
    });
    const items = await new Promise<unknown>((resolve, reject) =>
      c.getRecordings((err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(JSON.stringify(items)).toContain('Recording_1');
    const uri = await new Promise<unknown>((resolve, reject) =>
      c.getReplayUri({ recordingToken: 'Recording_1' }, (err, u) => (err ? reject(err) : resolve(u))),
    );
    expect(uri).toBe(cam.replayUri);
  });
});
