/**
 * The relay over real sockets and real ffmpeg: the simulator's RTSP in, HLS
 * out through /streams with signed tokens bound to the asking session;
 * sharing, idle stop, scope, token and path checks, snapshots, PTZ and audit.
 * (What a ticket refuses to other sessions: tests/security/stream-tickets.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { StreamStateEvent, StreamTicket } from '../../server/src/api/contract.ts';
import { hashToken } from '../../server/src/auth/index.ts';
import { WHOLE_REGISTRY } from '../../server/src/org/scope.ts';
import { cameraRef, sessionRef, signGrant } from '../../server/src/relay/tokens.ts';
import {
  client,
  firstVillage,
  listenAs,
  registerSimCamera,
  settle,
  startTestServer,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';

const tokenKey = Buffer.alloc(32, 7);
let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
let officer: ReturnType<typeof client>;
let officerToken = '';
/** The officer's session on a playlist or segment request, as the browser's cookie would carry it. */
const asOfficer = () => ({ headers: { authorization: `Bearer ${officerToken}` } });
let fixedId = 0;
let domeId = 0;
let unreachableId = 0;
const heard: { own: StreamStateEvent[]; other: StreamStateEvent[] } = { own: [], other: [] };
const sockets: TypedSocket[] = [];

const ffmpegPids = (dirPart: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('ffmpeg') && l.includes(dirPart))
    .map((l) => Number(l.trim().split(/\s+/)[0]));

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    relay: true,
    tokenKey,
    overrides: { relay: { idleTimeoutSeconds: 5, startTimeoutMs: 15_000 } },
  });
  const specs = defaultCameraSpecs(3, { firstIp: block.host(1), seed: 21 }).map((s, i) => ({
    ...s,
    clockOffsetSec: 0,
    ptz: i === 1,
  }));
  sim = await startSimulator({
    cameras: specs,
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    streamOverrides: { main: { width: 640, height: 360, fps: 15 }, sub: { width: 320, height: 180, fps: 15 } },
  });
  const tech = client(t.api, await t.login('tech1'));
  const village = await firstVillage(tech);
  const make = (i: number, extra: object = {}) =>
    registerSimCamera(tech, sim.cameras[i]!, {
      name: `转发测试${i}`,
      networkId: 'tianwang',
      orgUnitId: village,
      ...extra,
    });
  fixedId = await make(0);
  domeId = await make(1);
  unreachableId = await make(2, { mainStreamUri: `rtsp://${block.host(250)}:8554/none`, subStreamUri: null });
  officerToken = await t.login('township1');
  officer = client(t.api, officerToken);
  const own = await listenAs(t, 'township1', 'stream:state');
  const other = await listenAs(t, 'township2', 'stream:state');
  heard.own = own.heard;
  heard.other = other.heard;
  sockets.push(own.socket, other.socket);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await sim?.stop();
  await block?.release();
  await t?.close();
});

const ticket = async (id: number, quality: 'sub' | 'main' = 'sub', who = officer) => {
  const r = await who.post(`/cameras/${id}/stream`, { quality });
  return r;
};

describe('live relay', () => {
  let first: StreamTicket;

  it('starts on the first request and serves a playlist with a segment ffprobe decodes', async () => {
    const r = await ticket(fixedId);
    expect(r.status, r.text).toBe(200);
    first = r.json;
    expect(first.playlistUrl).toMatch(/^\/streams\/[\w-]+\.[\w-]+\/index\.m3u8$/);
    const pl = await fetch(t.url + first.playlistUrl, asOfficer());
    expect(pl.status).toBe(200);
    expect(pl.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(pl.headers.get('cache-control')).toContain('no-cache');
    const text = await pl.text();
    const seg = text.split('\n').find((l) => l.endsWith('.ts'))!;
    expect(seg).toMatch(/^seg_\d+\.ts$/);
    const s = await fetch(t.url + first.playlistUrl.replace('index.m3u8', seg), asOfficer());
    expect(s.headers.get('content-type')).toBe('video/mp2t');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'seg-')), 'seg.ts');
    writeFileSync(file, Buffer.from(await s.arrayBuffer()));
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' }),
    ) as { streams: { codec_name: string; width: number }[] };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', width: 320 });
  }, 30_000);

  it('shares one ffmpeg between viewers', async () => {
    const county = client(t.api, await t.login('county'));
    const again = await ticket(fixedId, 'sub', county);
    expect(again.status).toBe(200);
    const dir = t.engine!.status(`${fixedId}:sub`)!.dir;
    expect(ffmpegPids(dir)).toHaveLength(1);
    const list = (await county.get('/streams')).json as { cameraId: number; viewers: number }[];
    expect(list.find((s) => s.cameraId === fixedId)?.viewers).toBe(2);
  });

  it('refuses forged, expired, foreign and out-of-scope tokens, and path tricks', async () => {
    const [, token] = /^\/streams\/([^/]+)\//.exec(first.playlistUrl)!;
    const tampered = token!.slice(0, -2) + (token!.endsWith('AA') ? 'BB' : 'AA');
    expect((await fetch(`${t.url}/streams/${tampered}/index.m3u8`, asOfficer())).status).toBe(401);
    const users = t.server.app.repos.users;
    const camera = (await t.server.app.repos.cameras.byId(WHOLE_REGISTRY, fixedId))!;
    const expired = signGrant(tokenKey, {
      userId: (await users.byUsername('township1'))!.id,
      cameraId: fixedId,
      quality: 'sub',
      exp: Math.floor(Date.now() / 1000) - 1,
      sessionRef: sessionRef(tokenKey, hashToken(officerToken)),
      cameraRef: cameraRef(tokenKey, camera),
    });
    expect((await fetch(`${t.url}/streams/${expired}/index.m3u8`, asOfficer())).status).toBe(401);
    // A valid signature for a township-2 user's own session: the camera is not theirs, and answers like missing.
    const outsiderToken = await t.login('township2');
    const outsider = signGrant(tokenKey, {
      userId: (await users.byUsername('township2'))!.id,
      cameraId: fixedId,
      quality: 'sub',
      exp: Math.floor(Date.now() / 1000) + 60,
      sessionRef: sessionRef(tokenKey, hashToken(outsiderToken)),
      cameraRef: cameraRef(tokenKey, camera),
    });
    const refused = await fetch(`${t.url}/streams/${outsider}/index.m3u8`, {
      headers: { authorization: `Bearer ${outsiderToken}` },
    });
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_found');
    for (const trick of [
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2findex.m3u8',
      'index.m3u8%00.ts',
      'seg_1.ts.bak',
      '.pids',
    ]) {
      expect([400, 404]).toContain((await fetch(`${t.url}/streams/${token}/${trick}`, asOfficer())).status);
    }
    const outsiderApi = client(t.api, await t.login('township2'));
    expect((await ticket(fixedId, 'sub', outsiderApi)).status).toBe(404);
  });

  it('gives a snapshot from the live stream', async () => {
    const res = await fetch(`${t.api}/cameras/${fixedId}/snapshot.jpg`, {
      headers: { authorization: `Bearer ${await t.login('township1')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const b = Buffer.from(await res.arrayBuffer());
    expect([b[0], b[1]]).toEqual([0xff, 0xd8]);
  });

  it('stops after the idle timeout and deletes its directory', async () => {
    const dir = t.engine!.status(`${fixedId}:sub`)!.dir;
    const until = Date.now() + 20_000;
    while (
      Date.now() < until &&
      t.engine!.status(`${fixedId}:sub`)?.state !== 'stopped' &&
      t.engine!.status(`${fixedId}:sub`) !== undefined
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ffmpegPids(dir)).toEqual([]);
    const { existsSync } = await import('node:fs');
    expect(existsSync(dir)).toBe(false);
    // The viewing sessions were closed and audited.
    // State changes went to the township that owns the camera, and nowhere else.
    await settle(sockets);
    const mine = heard.own.filter((e) => e.cameraId === fixedId).map((e) => e.state);
    expect(mine).toContain('live');
    expect(mine[mine.length - 1]).toBe('stopped');
    expect(heard.other).toEqual([]);
    const sessions = await t.store.all<{ ended_at: string | null }>(
      'SELECT ended_at FROM view_sessions WHERE camera_id = ?',
      [fixedId],
    );
    expect(sessions.length).toBe(2);
    expect(sessions.every((s) => s.ended_at !== null)).toBe(true);
    const admin = client(t.api, await t.login('admin'));
    expect(((await admin.get('/audit?action=stream.view')).json.items as unknown[]).length).toBeGreaterThanOrEqual(2);
    // Who watched, from when to when: readable by admins, not by others.
    const views = (await admin.get(`/audit/view-sessions?camera=${fixedId}`)).json.items as {
      username: string;
      quality: string;
      startedAt: string;
      endedAt: string | null;
    }[];
    expect(views.map((v) => v.username).sort()).toEqual(['county', 'township1']);
    expect(views.every((v) => v.quality === 'sub' && v.endedAt !== null && v.endedAt >= v.startedAt)).toBe(true);
    expect((await officer.get('/audit/view-sessions')).status).toBe(403);
  }, 30_000);

  it('reports an unreachable camera as a 502 with the reason', async () => {
    const r = await ticket(unreachableId, 'main');
    expect(r.status).toBe(502);
    expect(r.json.error.message).toMatch(/refused|reach|closed/i);
  });
});

describe('PTZ', () => {
  it('moves and stops a dome, lists presets, and audits each command', async () => {
    const presets = await officer.get(`/cameras/${domeId}/ptz/presets`);
    expect(presets.status, presets.text).toBe(200);
    expect(presets.json.length).toBeGreaterThan(0);
    expect((await officer.post(`/cameras/${domeId}/ptz`, { action: 'move', pan: 0.5, tilt: 0, zoom: 0 })).status).toBe(
      204,
    );
    expect((await officer.post(`/cameras/${domeId}/ptz`, { action: 'stop' })).status).toBe(204);
    expect(
      (await officer.post(`/cameras/${domeId}/ptz`, { action: 'goto', preset: presets.json[0].token })).status,
    ).toBe(204);
    const admin = client(t.api, await t.login('admin'));
    const audit = (await admin.get('/audit?action=camera.ptz')).json.items as {
      outcome: string;
      detail: { action: string };
    }[];
    expect(audit.map((a) => a.detail.action)).toEqual(expect.arrayContaining(['move', 'stop', 'goto']));
  });

  it('refuses fixed cameras, bad values, viewers, outsiders and floods', async () => {
    expect((await officer.post(`/cameras/${fixedId}/ptz`, { action: 'stop' })).status).toBe(409);
    const bad = await officer.post(`/cameras/${domeId}/ptz`, { action: 'move', pan: 5, tilt: 0, zoom: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe('pan');
    expect(
      (await client(t.api, await t.login('viewer')).post(`/cameras/${domeId}/ptz`, { action: 'stop' })).status,
    ).toBe(403);
    expect(
      (await client(t.api, await t.login('township2')).post(`/cameras/${domeId}/ptz`, { action: 'stop' })).status,
    ).toBe(404);
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) codes.push((await officer.post(`/cameras/${domeId}/ptz`, { action: 'stop' })).status);
    expect(codes).toContain(429);
  });
});
