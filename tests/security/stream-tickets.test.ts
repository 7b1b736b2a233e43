/**
 * Issue 11: a stream ticket (the signed playlist URL) plays only for the
 * session that asked for it, re-checked on every playlist and segment
 * request: not for another township's session, another session of the same
 * user, a request without a session, nor after the issuer logged out. The
 * viewing audit names whoever's session fetched. Deleting a watched point
 * stops its relay at once, and no ticket for it plays again, even when its id
 * comes to name another point. Real server, real ffmpeg, the simulator's RTSP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { StreamStateEvent, StreamTicket } from '../../server/src/api/contract.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
let tech: ReturnType<typeof client>;
/** Watched by most tests; never deleted. */
let cameraId = 0;
/** Deleted by the last tests. */
let doomedId = 0;
let reusedId = 0;

/** A browser's sign-in: the session cookie exactly as the server set it, and the token inside it. */
interface Session {
  username: string;
  token: string;
  cookie: string;
}

async function signIn(username: string): Promise<Session> {
  const res = await fetch(`${t.api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`);
  const token = ((await res.json()) as { token: string }).token;
  const set = res.headers.getSetCookie().find((c) => c.includes(token));
  if (!set) throw new Error('login set no session cookie');
  return { username, token, cookie: set.split(';')[0]! };
}

/** A request as the browser's same-origin player makes it: the session's cookie, nothing else. */
const get = (url: string, s?: Session) => fetch(t.url + url, s ? { headers: { cookie: s.cookie } } : {});

async function ticketFor(s: Session, id: number): Promise<StreamTicket> {
  const r = await client(t.api, s.token).post(`/cameras/${id}/stream`, { quality: 'sub' });
  if (r.status !== 200) throw new Error(`ticket for camera ${id}: ${r.status} ${r.text}`);
  return r.json as StreamTicket;
}

/** The playlist and its newest segment's URL, as the issuer plays them. */
async function play(ticket: StreamTicket, s: Session): Promise<{ playlist: string; segment: string }> {
  let segment = '';
  await expect
    .poll(async () => {
      const pl = await get(ticket.playlistUrl, s);
      if (pl.status !== 200) return `playlist ${pl.status}`;
      const name = (await pl.text()).split('\n').findLast((l) => l.endsWith('.ts'));
      if (!name) return 'no segment yet';
      segment = ticket.playlistUrl.replace('index.m3u8', name);
      const seg = await get(segment, s);
      return seg.status === 200 && seg.headers.get('content-type') === 'video/mp2t' ? 'plays' : `segment ${seg.status}`;
    })
    .toBe('plays');
  return { playlist: ticket.playlistUrl, segment };
}

/** Status and error code of a refused request; the body must never be video. */
async function refusal(res: Response): Promise<[number, string]> {
  expect(res.headers.get('content-type')).toMatch(/json/);
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

const ffmpegPids = (dirPart: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('ffmpeg') && l.includes(dirPart))
    .map((l) => Number(l.trim().split(/\s+/)[0]));

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({ relay: true, overrides: { relay: { startTimeoutMs: 15_000 } } });
  sim = await startSimulator({
    cameras: defaultCameraSpecs(3, { firstIp: block.host(1), seed: 87 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    streamOverrides: { main: { width: 640, height: 360, fps: 15 }, sub: { width: 320, height: 180, fps: 15 } },
  });
  // tech1 registers in township 1 (城关镇); township2's officer is outside it.
  tech = client(t.api, await t.login('tech1'));
  const village = await firstVillage(tech);
  const make = (i: number) =>
    registerSimCamera(tech, sim.cameras[i]!, { name: `票据测试${i}`, networkId: 'tianwang', orgUnitId: village });
  cameraId = await make(0);
  doomedId = await make(1);
  reusedId = await make(2);
}, 60_000);

afterAll(async () => {
  await sim?.stop();
  await block?.release();
  await t?.close();
});

describe('a stream ticket plays only for the session that asked for it', () => {
  it("refuses another township's session, and another session of the same user (playlist and segment)", async () => {
    const issuer = await signIn('township1');
    const urls = await play(await ticketFor(issuer, cameraId), issuer);
    const stranger = await signIn('township2');
    const sameUserElsewhere = await signIn('township1');
    for (const url of [urls.playlist, urls.segment]) {
      expect(await refusal(await get(url, stranger))).toEqual([403, 'ticket_not_yours']);
      expect(await refusal(await get(url, sameUserElsewhere))).toEqual([403, 'ticket_not_yours']);
    }
    // The issuer still plays: the refusals above were about who asked, not the ticket.
    expect((await get(urls.playlist, issuer)).status).toBe(200);
  }, 30_000);

  it('refuses a request without a session (playlist and segment)', async () => {
    const issuer = await signIn('township1');
    const urls = await play(await ticketFor(issuer, cameraId), issuer);
    for (const url of [urls.playlist, urls.segment]) {
      expect(await refusal(await get(url))).toEqual([401, 'session_required']);
    }
    // A bearer token is a session too (scripted clients), and it must be the same one.
    const bearer = (token: string) => fetch(t.url + urls.playlist, { headers: { authorization: `Bearer ${token}` } });
    expect((await bearer(issuer.token)).status).toBe(200);
    expect((await bearer((await signIn('county')).token)).status).toBe(403);
  }, 30_000);

  it('ends the moment the issuer logs out (playlist and segment)', async () => {
    const issuer = await signIn('township1');
    const urls = await play(await ticketFor(issuer, cameraId), issuer);
    const out = await fetch(`${t.api}/auth/logout`, { method: 'POST', headers: { cookie: issuer.cookie } });
    expect(out.status).toBeLessThan(300);
    // The browser still holds the old cookie and the URL; neither is enough any more.
    for (const url of [urls.playlist, urls.segment]) {
      expect(await refusal(await get(url, issuer))).toEqual([401, 'session_required']);
    }
  }, 30_000);

  it("names the fetching session's user in the viewing audit; a refused request records nothing", async () => {
    // county may watch a township-1 camera; its own viewing session is closed first, as the idle sweep would.
    const viewer = await signIn('county');
    const ticket = await ticketFor(viewer, cameraId);
    const open = () =>
      t.store.all<{ user_id: number }>('SELECT user_id FROM view_sessions WHERE camera_id = ? AND ended_at IS NULL', [
        cameraId,
      ]);
    const countyId = (await t.server.app.repos.users.byUsername('county'))!.id;
    await t.store.run('UPDATE view_sessions SET ended_at = last_seen_at WHERE camera_id = ? AND ended_at IS NULL', [
      cameraId,
    ]);
    // Someone else holding county's URL: before issue 11 this played and was audited as county watching.
    const stranger = await signIn('township2');
    expect((await get(ticket.playlistUrl, stranger)).status).toBe(403);
    expect(await open()).toEqual([]);
    // county's own session fetching is audited as county.
    expect((await get(ticket.playlistUrl, viewer)).status).toBe(200);
    // Written beside the answer, not before it (the relay's bookkeeping): a row the stranger's refused request
    // had left would show here too.
    await expect.poll(open, { timeout: 10_000 }).toEqual([{ user_id: countyId }]);
    const admin = client(t.api, await t.login('admin'));
    const views = (await admin.get(`/audit/view-sessions?camera=${cameraId}`)).json.items as {
      username: string;
      endedAt: string | null;
    }[];
    expect(views.filter((v) => v.endedAt === null).map((v) => v.username)).toEqual(['county']);
  }, 30_000);
});

describe('deleting a watched point', () => {
  it('stops its relay at once and its ticket never plays again', async () => {
    const issuer = await signIn('township1');
    const urls = await play(await ticketFor(issuer, doomedId), issuer);
    const dir = t.engine!.status(`${doomedId}:sub`)!.dir;
    expect(ffmpegPids(dir)).toHaveLength(1);
    const listed = async () =>
      ((await client(t.api, issuer.token).get('/streams')).json as StreamStateEvent[]).map((s) => s.cameraId);
    expect(await listed()).toContain(doomedId);

    expect((await tech.del(`/cameras/${doomedId}`)).status).toBe(204);

    // Gone from the list as the delete answered; the ffmpeg process follows (SIGTERM, then SIGKILL).
    expect(await listed()).not.toContain(doomedId);
    await expect.poll(() => ffmpegPids(dir)).toEqual([]);
    for (const url of [urls.playlist, urls.segment]) {
      expect(await refusal(await get(url, issuer))).toEqual([404, 'not_found']);
    }
    expect(
      await t.store.all('SELECT id FROM view_sessions WHERE camera_id = ? AND ended_at IS NULL', [doomedId]),
    ).toEqual([]);
  }, 30_000);

  it('refuses a ticket whose camera id has come to name another point', async () => {
    const issuer = await signIn('township1');
    const urls = await play(await ticketFor(issuer, reusedId), issuer);
    // What an id handed out again looks like from the ticket's side: the same id, a point created at another time.
    // (Ids are no longer reused; the ticket must not rely on that.)
    await t.store.run('UPDATE camera_points SET created_at = ? WHERE id = ?', ['2030-01-01T00:00:00.000Z', reusedId]);
    for (const url of [urls.playlist, urls.segment]) {
      expect(await refusal(await get(url, issuer))).toEqual([404, 'not_found']);
    }
  }, 30_000);
});
