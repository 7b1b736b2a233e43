/**
 * Recording and playback end to end (issue 14), with real ffmpeg against the camera simulator: a record plan
 * records two points; the server restarts in the middle (same database, same recordings); the spans show the
 * gap; a playback across it has continuous timestamps except at the gap (ffprobe of every segment it lists);
 * an MP4 download decodes and lasts what was asked (±1 s); an alert's evidence clip starts before the alert;
 * bad ranges are 400 naming the field; a township cannot list, play or download another township's recordings.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../scripts/sim/index.ts';
import type { RunningServer } from '../../server/src/app.ts';
import type { Store } from '../../server/src/db/store.ts';
import { client, firstVillage, registerSimCamera } from '../helpers/server.ts';
import { openRecordingBench, type RecordingBench, type RecordingServer } from './support.ts';

const FFPROBE = '/usr/bin/ffprobe';
let bench: RecordingBench;
let base: string;
let sim: Simulator;
let server: RunningServer;
let store: Store;
let api = '';
let cam0 = 0;
let cam1 = 0;
let idle = 0;
let t0 = 0;
/** When server A stopped and server B started recording again. */
let stoppedAt = 0;
let restartedAt = 0;

let rs: RecordingServer;

async function start(seed: boolean): Promise<void> {
  rs = await bench.start(seed);
  server = rs.server;
  store = rs.store;
  api = rs.api;
}

async function stop(): Promise<void> {
  await rs.close();
}

const login = (username: string) => rs.login(username);
const as = async (user: string) => client(api, await login(user));
const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recordedSeconds(c: ReturnType<typeof client>, id: number, fromMs: number): Promise<number> {
  const r = await c.get(`/recording/cameras/${id}/spans?from=${iso(fromMs)}&to=${iso(Date.now())}`);
  const spans = (r.json?.spans ?? []) as Array<{ start: string; end: string }>;
  return spans.reduce((n, s) => n + (Date.parse(s.end) - Date.parse(s.start)) / 1000, 0);
}

async function waitRecorded(c: ReturnType<typeof client>, id: number, fromMs: number, secs: number) {
  const end = Date.now() + 60_000;
  while ((await recordedSeconds(c, id, fromMs)) < secs) {
    if (Date.now() > end) throw new Error(`camera ${id}: not ${secs} s recorded after ${iso(fromMs)}`);
    await sleep(500);
  }
}

function ffprobeJson(args: string[]): any {
  return JSON.parse(execFileSync(FFPROBE, ['-v', 'error', '-of', 'json', ...args], { encoding: 'utf8' }));
}

beforeAll(async () => {
  bench = await openRecordingBench({ prefix: 'ccc-recording-', cameras: 2, seed: 31 });
  base = bench.base;
  sim = bench.sim;
  await start(true);
  const admin = await as('admin');
  const tech1 = await as('tech1');
  cam0 = await registerSimCamera(tech1, sim.cameras[0]!, { name: '录像测试0', orgUnitId: await firstVillage(tech1) });
  const town2 = await as('township2');
  cam1 = await registerSimCamera(admin, sim.cameras[1]!, { name: '录像测试1', orgUnitId: await firstVillage(town2) });
  // A point with no plan: never recorded.
  idle = await registerSimCamera(tech1, sim.cameras[1]!, { name: '不录像', orgUnitId: await firstVillage(tech1) });
  t0 = Date.now();
  for (const cameraId of [cam0, cam1]) {
    const r = await admin.put('/recording/plans', { cameraId, mode: 'continuous', retentionDays: 7 });
    expect(r.status, r.text).toBe(200);
  }
  await waitRecorded(admin, cam0, t0, 6);
  // The restart: server A stops (its recorders close their last segment), a few seconds pass, server B
  // opens the same database and recordings and records on.
  await stop();
  stoppedAt = Date.now();
  await sleep(3_000);
  restartedAt = Date.now();
  await start(false);
  await waitRecorded(await as('admin'), cam0, stoppedAt, 6);
}, 150_000);

afterAll(async () => {
  await rs?.close().catch(() => undefined);
  const left = bench ? await bench.close() : [];
  expect(left, 'ffmpeg left running').toEqual([]);
});

describe('recording and playback', () => {
  it('spans show the restart as a gap; a point without recordings has none', async () => {
    const admin = await as('admin');
    const r = await admin.get(`/recording/cameras/${cam0}/spans?from=${iso(t0)}&to=${iso(Date.now())}`);
    expect(r.status).toBe(200);
    const spans = r.json.spans as Array<{ start: string; end: string }>;
    expect(spans.length).toBeGreaterThanOrEqual(2);
    // The gap covers the time no server ran (from the first one's stop to the second one's start).
    const gap = (r.json.gaps as Array<{ start: string; end: string }>).find(
      (g) => Date.parse(g.start) <= stoppedAt && Date.parse(g.end) >= restartedAt,
    );
    expect(gap, `${iso(stoppedAt)} ${iso(restartedAt)} ${JSON.stringify(r.json)}`).toBeDefined();
    expect(r.json.recording).toBe(true);
    const none = await admin.get(`/recording/cameras/${idle}/spans?from=${iso(t0)}&to=${iso(Date.now())}`);
    expect(none.status).toBe(200);
    expect(none.json.spans).toEqual([]);
    expect(none.json.gaps).toEqual([]);
  });

  it('a playback across the restart: continuous timestamps within each run, one discontinuity at the gap', async () => {
    const token = await login('township1');
    const c = client(api, token);
    const r = await c.post(`/recording/cameras/${cam0}/playback`, {
      from: iso(stoppedAt - 5_000),
      to: iso(Date.now()),
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.playlistUrl).toMatch(/^\/recordings\/[^/]+\/index\.m3u8$/);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const pl = await (await fetch(`${server.url}${r.json.playlistUrl}`, auth)).text();
    expect(pl).toContain('#EXT-X-ENDLIST');
    expect(pl.match(/#EXT-X-DISCONTINUITY/g)?.length).toBe(1);
    // Every segment the playlist lists, in order, fetched through the ticket and probed.
    const dir = mkdtempSync(path.join(base, 'pl-'));
    const runs: Array<Array<{ start: number; duration: number }>> = [[]];
    for (const line of pl.split('\n')) {
      if (line === '#EXT-X-DISCONTINUITY') runs.push([]);
      if (!line.endsWith('.ts')) continue;
      const res = await fetch(`${server.url}${r.json.playlistUrl.replace('index.m3u8', line)}`, auth);
      expect(res.status).toBe(200);
      const file = path.join(dir, line);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const f = ffprobeJson(['-show_entries', 'format=start_time,duration', file]).format;
      runs.at(-1)!.push({ start: Number(f.start_time), duration: Number(f.duration) });
    }
    expect(runs.length).toBe(2);
    for (const run of runs) {
      expect(run.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < run.length; i++) {
        // Each segment starts where the one before it ended (one frame at 10 fps of slack).
        expect(Math.abs(run[i]!.start - (run[i - 1]!.start + run[i - 1]!.duration))).toBeLessThan(0.15);
      }
    }
    // A copied URL plays for no other session, not even the same user's.
    const other = await login('township1');
    const stolen = await fetch(`${server.url}${r.json.playlistUrl}`, { headers: { authorization: `Bearer ${other}` } });
    expect(stolen.status).toBe(403);
    expect((await fetch(`${server.url}${r.json.playlistUrl}`)).status).toBe(401);
  });

  it('an MP4 download decodes and lasts what was asked (±1 s), and is audited', async () => {
    const admin = await as('admin');
    const spans = (await admin.get(`/recording/cameras/${cam0}/spans?from=${iso(t0)}&to=${iso(Date.now())}`)).json
      .spans as Array<{ start: string; end: string }>;
    const last = spans.at(-1)!;
    const from = Date.parse(last.start) + 500;
    const to = Math.min(from + 5_000, Date.parse(last.end));
    const res = await fetch(`${api}/recording/cameras/${cam0}/export.mp4?from=${iso(from)}&to=${iso(to)}`, {
      headers: { authorization: `Bearer ${await login('county')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const file = path.join(base, 'export.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const p = ffprobeJson(['-count_frames', '-show_entries', 'format=duration:stream=codec_name,nb_read_frames', file]);
    expect(p.streams[0].codec_name).toBe('h264');
    expect(Number(p.streams[0].nb_read_frames)).toBeGreaterThan(10);
    expect(Math.abs(Number(p.format.duration) - (to - from) / 1000)).toBeLessThanOrEqual(1);
    const audit = await admin.get('/audit?action=recording.export');
    expect(audit.json.items.some((e: { targetId: string }) => String(e.targetId) === String(cam0))).toBe(true);
  });

  it('bad ranges are 400 naming the field', async () => {
    const c = await as('county');
    const now = Date.now();
    const cases: Array<[string, string, string]> = [
      [iso(now - 1_000), iso(now - 5_000), 'to'], // reversed
      [iso(now - 5_000), iso(now - 5_000), 'to'], // empty
      [iso(now + 3_600_000), iso(now + 7_200_000), 'from'], // future
      [iso(now - 5_000), iso(now + 3_600_000), 'to'], // ends in the future
      ['yesterday', iso(now), 'from'], // not a time
    ];
    for (const [from, to, field] of cases) {
      const spans = await c.get(
        `/recording/cameras/${cam0}/spans?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      );
      expect(spans.status, `${from} → ${to}`).toBe(400);
      expect(spans.json.error.fields[0].path).toBe(field);
      const play = await c.post(`/recording/cameras/${cam0}/playback`, { from, to });
      expect(play.status).toBe(400);
      expect(play.json.error.fields[0].path).toBe(field);
    }
    // Longer than recording.maxRangeHours (24) for a playback, longer than maxExportMinutes for a download.
    const long = await c.post(`/recording/cameras/${cam0}/playback`, { from: iso(now - 25 * 3_600_000), to: iso(now) });
    expect(long.status).toBe(400);
    expect(long.json.error.fields[0].path).toBe('to');
    const longExport = await c.get(
      `/recording/cameras/${cam0}/export.mp4?from=${iso(now - 2 * 3_600_000)}&to=${iso(now)}`,
    );
    expect(longExport.status).toBe(400);
    expect(longExport.json.error.fields[0].path).toBe('to');
    expect((await c.get(`/recording/cameras/${cam0}/spans?from=${iso(now - 1000)}`)).json.error.fields[0].path).toBe(
      'to',
    );
  });

  it("a township cannot list, play or download another township's recordings", async () => {
    const t1 = await as('township1');
    const t2 = await as('township2');
    const range = `from=${iso(t0)}&to=${iso(Date.now())}`;
    // Its own: yes.
    expect((await t2.get(`/recording/cameras/${cam1}/spans?${range}`)).json.spans.length).toBeGreaterThan(0);
    expect((await t1.get(`/recording/cameras/${cam0}/spans?${range}`)).json.spans.length).toBeGreaterThan(0);
    // The other's: exactly like a missing point.
    const missing = await t2.get(`/recording/cameras/999999/spans?${range}`);
    for (const r of [
      await t2.get(`/recording/cameras/${cam0}/spans?${range}`),
      await t2.post(`/recording/cameras/${cam0}/playback`, { from: iso(t0), to: iso(Date.now()) }),
      await t2.get(
        `/recording/cameras/${cam0}/export.mp4?from=${iso(Date.now() - 10_000)}&to=${iso(Date.now() - 5_000)}`,
      ),
      await t1.get(`/recording/cameras/${cam1}/spans?${range}`),
    ]) {
      expect(r.status).toBe(404);
      expect(r.json).toEqual(missing.json);
    }
    // Nor a segment of another point through its own ticket: the ticket names one point and one range.
    const token = await login('township2');
    const own = await client(api, token).post(`/recording/cameras/${cam1}/playback`, {
      from: iso(t0),
      to: iso(Date.now()),
    });
    const seg0 = (
      await store.all<{ id: number }>('SELECT id FROM recording_segments WHERE camera_id = ? LIMIT 1', [cam0])
    )[0]!.id;
    const res = await fetch(`${server.url}${own.json.playlistUrl.replace('index.m3u8', `s${seg0}.ts`)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(404);
    // And the plans, evidence and disk state are not a viewer's or a township operator's business to manage.
    expect((await t1.get('/recording/status')).status).toBe(403);
  });

  it("an alert's evidence clip starts before the alert and is attached to it", async () => {
    const alert = await server.app.alerts.cameraEvent({
      cameraId: cam0,
      kind: 'motion',
      deviceTime: null,
      topic: 'test',
    });
    expect(alert).not.toBeNull();
    const id = alert!.alert.id;
    const at = Date.parse(alert!.alert.firstAt);
    const c = await as('township1');
    let clips: Array<{ id: number; status: string; start: string; end: string; url: string | null }> = [];
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      clips = (await c.get(`/recording/alerts/${id}/clips`)).json;
      if (clips.length && clips[0]!.status !== 'pending') break;
      await sleep(500);
    }
    expect(clips.length).toBe(1);
    expect(clips[0]!.status).toBe('ready');
    expect(Date.parse(clips[0]!.start)).toBe(at - 4_000);
    const res = await fetch(`${server.url}${clips[0]!.url}`, {
      headers: { authorization: `Bearer ${await login('county')}` },
    });
    expect(res.status).toBe(200);
    const file = path.join(base, 'clip.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const duration = Number(ffprobeJson(['-show_entries', 'format=duration', file]).format.duration);
    // 4 s before and 2 s after: longer than the time after the alert, so it begins before it.
    expect(duration).toBeGreaterThan(4.5);
    expect(Math.abs(duration - 6)).toBeLessThanOrEqual(1);
    // Another township sees no clip of it, not even that of its own linked camera (the alert is not its own),
    // and cannot fetch one by id.
    const t2 = await as('township2');
    expect((await t2.get(`/recording/alerts/${id}/clips`)).json).toEqual([]);
    const cam1Clip = await store.get<{ id: number }>(
      'SELECT id FROM recording_clips WHERE alert_id = ? AND camera_id = ?',
      [id, cam1],
    );
    for (const clipId of [clips[0]!.id, cam1Clip?.id ?? 0]) {
      if (!clipId) continue;
      expect((await t2.get(`/recording/clips/${clipId}.mp4`)).status).toBe(404);
    }
  });
});
