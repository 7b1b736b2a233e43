/**
 * Playback from the camera's own storage (ONVIF Profile G, issue 14), end to end with real ffmpeg against the
 * simulator: the spans API lists the camera's recorded spans with its gaps beside the platform's (source:
 * device); a replay from a clock time plays (frames decode) and starts at that time (the recorded time in
 * every picture's clock SEI); at 4× four recorded seconds pass per second of video; a camera without
 * Profile G answers a coded reason; a township can neither list nor play another township's camera, nor use
 * another session's ticket. Nothing here asserts wall-clock timings.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { readClockSei, type Simulator } from '../../scripts/sim/index.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';
import { startPlaybackSimulator } from '../helpers/sim.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const dir = mkdtempSync(path.join(tmpdir(), 'ccc-devplay-'));
let block: LoopbackBlock;
let sim: Simulator;
let ts: TestServer;
let withG = 0;
let withoutG = 0;
let simStart = 0;
const iso = (ms: number) => new Date(ms).toISOString();
const as = async (user: string) => client(ts.api, await ts.login(user));

beforeAll(async () => {
  block = await claimLoopbackBlock();
  simStart = Date.now();
  sim = await startPlaybackSimulator({
    count: 2,
    seed: 41,
    block,
    dir,
    spec: (s, i) => ({ ...s, faults: {}, ...(i === 1 ? { recording: false as const } : {}) }),
  });
  ts = await startTestServer({ relay: true, cameras: 6 });
  const tech1 = await as('tech1');
  const village = await firstVillage(tech1);
  withG = await registerSimCamera(tech1, sim.cameras[0]!, { name: '前端录像', orgUnitId: village });
  withoutG = await registerSimCamera(tech1, sim.cameras[1]!, { name: '无前端录像', orgUnitId: village });
}, 60_000);

afterAll(async () => {
  await ts?.close();
  await sim?.stop();
  await block?.release();
  rmSync(dir, { recursive: true, force: true });
});

/** Fetches the replay's playlist until it lists `n` segments; returns them with their durations. */
async function segments(playlistUrl: string, token: string, n: number): Promise<Array<{ name: string; sec: number }>> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(`${ts.url}${playlistUrl}`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status, await r.clone().text()).toBe(200);
    const text = await r.text();
    const segs = [...text.matchAll(/#EXTINF:([\d.]+),\s*\n(seg_\d+\.ts)/g)].map((m) => ({
      name: m[2]!,
      sec: Number(m[1]),
    }));
    if (segs.length >= n) return segs.slice(0, n);
    if (Date.now() > end) throw new Error(`only ${segs.length} segments: ${text}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The recorded times (clock SEI) of every picture of the segments, and how many pictures decode. */
async function readSegments(playlistUrl: string, token: string, segs: Array<{ name: string }>) {
  const base = playlistUrl.replace(/index\.m3u8$/, '');
  const files: string[] = [];
  for (const s of segs) {
    const r = await fetch(`${ts.url}${base}${s.name}`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(f, Buffer.from(await r.arrayBuffer()));
    files.push(f);
  }
  const input = `concat:${files.join('|')}`;
  const annexB = execFileSync(FFMPEG, ['-v', 'fatal', '-i', input, '-c:v', 'copy', '-f', 'h264', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const clocks: number[] = [];
  let at = 0;
  const starts: number[] = [];
  while ((at = annexB.indexOf(Buffer.from([0, 0, 1]), at)) >= 0) {
    starts.push(at + 3);
    at += 3;
  }
  for (let i = 0; i < starts.length; i++) {
    const nal = annexB.subarray(starts[i]!, i + 1 < starts.length ? starts[i + 1]! - 3 : annexB.length);
    const c = readClockSei(nal[nal.length - 1] === 0 ? nal.subarray(0, nal.length - 1) : nal);
    if (c) clocks.push(c.wallClockMs);
  }
  const decoded = execFileSync(FFMPEG, ['-v', 'error', '-i', input, '-f', 'framemd5', '-'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^\d/.test(l)).length;
  return { clocks, decoded };
}

/** A replay of the Profile G camera from ten minutes ago, for the session `token`; its playlist's path. */
async function replayOf(token: string): Promise<string> {
  const own = await client(ts.api, token).post(`/recording/cameras/${withG}/playback`, {
    from: iso(Date.now() - 600_000),
    to: iso(Date.now() - 300_000),
    source: 'device',
  });
  expect(own.status, own.text).toBe(200);
  return own.json.playlistUrl as string;
}

describe('device recordings (Profile G)', () => {
  it('lists the camera’s own spans with their gaps beside the platform’s', async () => {
    const t1 = await as('township1');
    const from = Date.now() - 4 * 3600_000;
    const r = await t1.get(`/recording/cameras/${withG}/spans?from=${iso(from)}&to=${iso(Date.now())}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json.spans).toEqual([]); // the platform recorded nothing of it
    expect(r.json.device).toEqual({ available: true, code: null, message: null });
    const spans = r.json.deviceSpans as Array<{ start: string; end: string; source: string }>;
    expect(spans.map((s) => s.source)).toEqual(['device', 'device', 'device']);
    // The simulator's two gaps: 3 h before its start for 15 min, 50 min before it for 5 min (±2 s of rounding).
    const near = (a: string, b: number) => expect(Math.abs(Date.parse(a) - b)).toBeLessThan(2_000);
    near(spans[0]!.start, from);
    near(spans[0]!.end, simStart - 3 * 3600_000);
    near(spans[1]!.start, simStart - 3 * 3600_000 + 15 * 60_000);
    near(spans[1]!.end, simStart - 50 * 60_000);
    near(spans[2]!.start, simStart - 45 * 60_000);
    expect(Date.parse(spans[2]!.end)).toBeGreaterThan(Date.now() - 10_000);
  });

  it('a camera without Profile G says so, in spans and when asked to play', async () => {
    const t1 = await as('township1');
    const r = await t1.get(
      `/recording/cameras/${withoutG}/spans?from=${iso(Date.now() - 3600_000)}&to=${iso(Date.now())}`,
    );
    expect(r.status).toBe(200);
    expect(r.json.device.available).toBe(false);
    expect(r.json.device.code).toBe('device_no_profile_g');
    const p = await t1.post(`/recording/cameras/${withoutG}/playback`, {
      from: iso(Date.now() - 600_000),
      to: iso(Date.now() - 300_000),
      source: 'device',
    });
    expect(p.status).toBe(409);
    expect(p.json.error.code, p.text).toBe('device_no_profile_g');
  });

  it('replays from a clock time (frames decode, the first shows that time); 4× carries four seconds per second', async () => {
    const token = await ts.login('township1');
    const t1 = client(ts.api, token);
    const at = Date.now() - 20 * 60_000;
    const one = await t1.post(`/recording/cameras/${withG}/playback`, {
      from: iso(at),
      to: iso(at + 600_000),
      source: 'device',
      speed: 1,
    });
    expect(one.status, one.text).toBe(200);
    expect(one.json.source).toBe('device');
    const segs1 = await segments(one.json.playlistUrl as string, token, 3);
    const r1 = await readSegments(one.json.playlistUrl as string, token, segs1);
    expect(r1.decoded).toBeGreaterThan(10);
    expect(r1.clocks.length).toBeGreaterThan(10);
    // From the keyframe at or before the asked time (1 s GOP).
    expect(r1.clocks[0]!).toBeLessThanOrEqual(at);
    expect(at - r1.clocks[0]!).toBeLessThan(1_100);
    const media1 = segs1.reduce((n, s) => n + s.sec, 0);
    const rate1 = (r1.clocks.at(-1)! - r1.clocks[0]!) / 1000 / media1;

    const four = await t1.post(`/recording/cameras/${withG}/playback`, {
      from: iso(at),
      to: iso(at + 600_000),
      source: 'device',
      speed: 4,
    });
    expect(four.status, four.text).toBe(200);
    const segs4 = await segments(four.json.playlistUrl as string, token, 3);
    const r4 = await readSegments(four.json.playlistUrl as string, token, segs4);
    expect(r4.decoded).toBeGreaterThan(10);
    expect(Math.abs(r4.clocks[0]! - at)).toBeLessThan(1_100);
    const media4 = segs4.reduce((n, s) => n + s.sec, 0);
    const rate4 = (r4.clocks.at(-1)! - r4.clocks[0]!) / 1000 / media4;
    expect(rate1).toBeGreaterThan(0.6);
    expect(rate1).toBeLessThan(1.4);
    expect(rate4).toBeGreaterThan(2.8);
    expect(rate4).toBeLessThan(5);

    // Audited like any playback, with its source.
    const rows = await ts.store.all<{ detail: string }>(
      `SELECT detail FROM audit_log WHERE action = 'recording.play' AND target_id = ?`,
      [String(withG)],
    );
    expect(rows.map((x) => JSON.parse(x.detail).source)).toEqual(['device', 'device']);
  }, 120_000);

  it('ends a replay when its player is done (DELETE /recordings/<ticket>), for the ticket’s own session only', async () => {
    const t1token = await ts.login('township1');
    const playlistUrl = await replayOf(t1token);
    await segments(playlistUrl, t1token, 1);
    const ticketUrl = `${ts.url}${playlistUrl.replace(/\/index\.m3u8$/, '')}`;
    const end = (token?: string) =>
      fetch(ticketUrl, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await end()).status).toBe(401);
    // Another session (of the same user, or another township's) cannot end it: it still plays.
    expect((await end(await ts.login('township1'))).status).toBe(403);
    expect((await end(await ts.login('township2'))).status).toBe(403);
    const playlist = () => fetch(`${ts.url}${playlistUrl}`, { headers: { authorization: `Bearer ${t1token}` } });
    expect((await playlist()).status).toBe(200);
    // Its own session ends it at once: the relay is gone, not left to idle out.
    expect((await end(t1token)).status).toBe(204);
    const gone = await playlist();
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toMatch(/ended/);
  }, 60_000);

  it('a township can neither list nor play another township’s camera, nor use another session’s ticket', async () => {
    const t2token = await ts.login('township2');
    const t2 = client(ts.api, t2token);
    const range = `from=${iso(Date.now() - 3600_000)}&to=${iso(Date.now())}`;
    const spans = await t2.get(`/recording/cameras/${withG}/spans?${range}`);
    expect(spans.status).toBe(404);
    const play = await t2.post(`/recording/cameras/${withG}/playback`, {
      from: iso(Date.now() - 600_000),
      to: iso(Date.now() - 300_000),
      source: 'device',
    });
    expect(play.status).toBe(404);
    // A ticket township1 got is no use to township2, nor to another session of township1.
    const t1token = await ts.login('township1');
    const url = `${ts.url}${await replayOf(t1token)}`;
    const stolen = await fetch(url, { headers: { authorization: `Bearer ${t2token}` } });
    expect(stolen.status).toBe(403);
    const otherSession = await fetch(url, { headers: { authorization: `Bearer ${await ts.login('township1')}` } });
    expect(otherSession.status).toBe(403);
    const none = await fetch(url);
    expect(none.status).toBe(401);
    const mine = await fetch(url, { headers: { authorization: `Bearer ${t1token}` } });
    expect(mine.status).toBe(200);
  }, 60_000);
});
