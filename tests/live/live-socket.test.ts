/**
 * The live socket (issue 15) with a real `ws` client, the real server, real ffmpeg and the simulator's RTSP:
 * one socket multiplexes tiles (codec, init, keyframe first, then fragments, each framed with its tile id);
 * the same tickets as HLS — another township's session cannot subscribe with a ticket it did not get, nor can
 * another session of the same user; a socket without a session or from another origin is refused; logout
 * ends the socket; a reader that never reads does not grow the server's memory beyond the cap.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { StreamTicket } from '../../server/src/api/contract.ts';
import { LIVE_FRAME, LIVE_PATH, type LiveServerMessage } from '../../server/src/api/live.ts';
import { DEMO_PASSWORD } from '../../server/src/demo/seed.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
let block: LoopbackBlock;
const ids: number[] = [];
/** A small cap, so that a reader that stops reading hits it within seconds. */
const CAP = 256 * 1024;

interface Session {
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
  const set = res.headers.getSetCookie().find((c) => c.includes(token))!;
  return { token, cookie: set.split(';')[0]! };
}

async function ticket(s: Session, id: number, quality: 'main' | 'sub' = 'sub'): Promise<string> {
  const r = await client(t.api, s.token).post(`/cameras/${id}/stream`, { quality, wait: 'running' });
  if (r.status !== 200) throw new Error(`ticket ${id}: ${r.status} ${r.text}`);
  return (r.json as StreamTicket).playlistUrl.split('/')[2]!;
}

/** A page's live socket: what it was told and which frames came for which tile. */
function openSocket(s?: Session, headers: Record<string, string> = {}) {
  const ws = new WebSocket(t.url.replace('http', 'ws') + LIVE_PATH, {
    headers: { ...(s ? { cookie: s.cookie } : {}), ...headers },
  });
  const messages: LiveServerMessage[] = [];
  const frames: Array<{ kind: number; tile: number; bytes: number }> = [];
  let closed: { code: number; reason: string } | undefined;
  let refused: number | undefined;
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) frames.push({ kind: data[0]!, tile: data.readUInt16BE(1), bytes: data.length - 3 });
    else messages.push(JSON.parse(String(data)) as LiveServerMessage);
  });
  ws.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  ws.on('unexpected-response', (_req, res) => {
    refused = res.statusCode;
    ws.terminate();
  });
  ws.on('error', () => undefined);
  return {
    ws,
    messages,
    frames,
    closed: () => closed,
    refused: () => refused,
    send: (m: unknown) => ws.send(JSON.stringify(m)),
    of: (tile: number) => frames.filter((f) => f.tile === tile),
    errors: () => messages.flatMap((m) => (m.type === 'error' ? [m] : [])),
  };
}

const ready = (sock: ReturnType<typeof openSocket>) =>
  expect.poll(() => sock.messages.some((m) => m.type === 'ready'), { timeout: 5_000 }).toBe(true);

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    relay: true,
    overrides: { relay: { startTimeoutMs: 15_000 } },
    liveSocket: { maxQueueBytes: CAP, recheckMs: 500 },
  });
  sim = await startSimulator({
    cameras: defaultCameraSpecs(3, { firstIp: block.host(1), seed: 15 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    // The main stream is heavy on purpose: the slow reader's test fills its buffers with it.
    streamOverrides: {
      main: { width: 1280, height: 720, fps: 25, bitrateKbps: 6000 },
      sub: { width: 320, height: 180, fps: 10, bitrateKbps: 200 },
    },
  });
  const tech = client(t.api, await t.login('tech1'));
  const village = await firstVillage(tech);
  for (const [i, cam] of sim.cameras.entries()) {
    ids.push(await registerSimCamera(tech, cam, { name: `低延时${i}`, networkId: 'tianwang', orgUnitId: village }));
  }
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await block?.release();
  await t?.close();
});

describe('one live socket per page', () => {
  it('multiplexes tiles: codec, init, a keyframe first, then fragments, each framed with its tile id', async () => {
    const s = await signIn('township1');
    const sock = openSocket(s);
    await ready(sock);
    sock.send({ op: 'subscribe', tile: 7, ticket: await ticket(s, ids[0]!) });
    sock.send({ op: 'subscribe', tile: 300, ticket: await ticket(s, ids[1]!) });
    await expect
      .poll(() => [sock.of(7).length >= 12, sock.of(300).length >= 12], { timeout: 30_000 })
      .toEqual([true, true]);
    for (const tile of [7, 300]) {
      expect(sock.messages.find((m) => m.type === 'init' && m.tile === tile)).toMatchObject({
        codec: expect.stringMatching(/^avc1\.[0-9a-f]{6}$/),
      });
      const [first, second] = sock.of(tile);
      expect(first!.kind).toBe(LIVE_FRAME.init);
      expect(second!.kind).toBe(LIVE_FRAME.keyframe);
    }
    expect(sock.errors()).toEqual([]);
    // Unsubscribed, a tile gets nothing more.
    sock.send({ op: 'unsubscribe', tile: 7 });
    await new Promise((r) => setTimeout(r, 300));
    const n = sock.of(7).length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sock.of(7).length).toBe(n);
    expect(sock.of(300).length).toBeGreaterThan(12);
    sock.ws.close();
  }, 60_000);

  it("a township cannot subscribe with another session's ticket (another township's, or its own other session's)", async () => {
    const issuer = await signIn('township1');
    const stolen = await ticket(issuer, ids[0]!);
    for (const who of ['township2', 'township1']) {
      const other = await signIn(who);
      const sock = openSocket(other);
      await ready(sock);
      sock.send({ op: 'subscribe', tile: 1, ticket: stolen });
      await expect.poll(() => sock.errors().map((e) => e.error.code)).toEqual(['ticket_not_yours']);
      expect(sock.errors()[0]!.error).toMatchObject({ code: 'ticket_not_yours', messageCode: 'ticket_not_yours' });
      await new Promise((r) => setTimeout(r, 500));
      expect(sock.frames).toEqual([]);
      sock.ws.close();
    }
    // township2 cannot get a ticket for township1's camera in the first place: it does not exist for it.
    const t2 = await signIn('township2');
    const r = await client(t.api, t2.token).post(`/cameras/${ids[0]}/stream`, { quality: 'sub', wait: 'running' });
    expect(r.status).toBe(404);
    // A forged or malformed ticket is refused with its reason.
    const sock = openSocket(issuer);
    await ready(sock);
    sock.send({ op: 'subscribe', tile: 2, ticket: stolen.slice(0, -2) + 'AA' });
    sock.send({ op: 'subscribe', tile: 3, ticket: 'x' });
    sock.send({ op: 'subscribe', tile: 0, ticket: stolen });
    await expect
      .poll(() => sock.errors().map((e) => e.error.code))
      .toEqual(['token_forged', 'token_malformed', 'live_bad_message']);
    expect(sock.frames).toEqual([]);
    sock.ws.close();
  }, 60_000);

  it('the socket ends with its session: logout closes it (4401) and says why', async () => {
    const s = await signIn('township1');
    const sock = openSocket(s);
    await ready(sock);
    sock.send({ op: 'subscribe', tile: 1, ticket: await ticket(s, ids[0]!) });
    await expect.poll(() => sock.of(1).length > 2, { timeout: 20_000 }).toBe(true);
    await fetch(`${t.api}/auth/logout`, { method: 'POST', headers: { cookie: s.cookie } });
    await expect.poll(() => sock.closed()?.code).toBe(4401);
    expect(sock.messages).toContainEqual({ type: 'session:ended', reason: 'logout' });
    // The old cookie opens nothing any more.
    const again = openSocket(s);
    await expect.poll(() => again.closed()?.code, { timeout: 10_000 }).toBe(4401);
  }, 60_000);

  it('no session, a viewing-less role or another origin: no socket; a kiosk-style bearer token by message works', async () => {
    const anon = openSocket();
    anon.ws.on('open', () => anon.send({ op: 'subscribe', tile: 1, ticket: 'x' }));
    await expect.poll(() => anon.closed()?.code).toBe(4401);
    expect(anon.errors()[0]!.error.code).toBe('live_session_required');
    expect(anon.frames).toEqual([]);

    const s = await signIn('township1');
    const foreign = openSocket(s, { origin: 'http://evil.example' });
    await expect.poll(() => foreign.refused()).toBe(403);

    const bearer = openSocket();
    bearer.ws.on('open', () => bearer.send({ op: 'auth', token: s.token }));
    await ready(bearer);
    bearer.send({ op: 'subscribe', tile: 5, ticket: await ticket(s, ids[0]!) });
    await expect.poll(() => bearer.of(5).length > 2, { timeout: 20_000 }).toBe(true);
    bearer.ws.close();
  }, 60_000);
});

/** A WebSocket client written by hand so that it can stop reading entirely: connect, upgrade, subscribe, never read. */
async function neverReadingClient(cookie: string, subscribe: object): Promise<net.Socket> {
  const url = new URL(t.url);
  const sock = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const key = randomBytes(16).toString('base64');
  sock.write(
    `GET ${LIVE_PATH} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`,
  );
  // Read the 101 and the `ready` message, then stop reading for good.
  await new Promise<void>((resolve) => {
    let got = '';
    const on = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('"ready"')) {
        sock.off('data', on);
        sock.pause();
        resolve();
      }
    };
    sock.on('data', on);
  });
  const payload = Buffer.from(JSON.stringify(subscribe));
  const mask = randomBytes(4);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  sock.write(Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
  return sock;
}

describe('back-pressure', () => {
  it("a reader that never reads does not grow the server's memory beyond the cap; it drops to keyframes", async () => {
    const s = await signIn('township1');
    const stats = () => t.server.live.stats().sockets.find((x) => x.tiles === 1 && x.userId !== null);
    const slow = await neverReadingClient(s.cookie, {
      op: 'subscribe',
      tile: 1,
      ticket: await ticket(s, ids[2]!, 'main'),
    });
    try {
      // Kernel buffers fill first (a few hundred KB on loopback), then the socket's own queue up to the cap.
      await expect.poll(() => stats()?.droppedFragments ?? 0, { timeout: 60_000, interval: 500 }).toBeGreaterThan(25);
      const feed = t.engine!.relay.live(`${ids[2]}:main`)!;
      const biggestFragment = 1024 * 1024; // one 720p keyframe at 6 Mbit/s is well below this
      for (let i = 0; i < 6; i++) {
        const st = stats()!;
        expect(st.maxBuffered).toBeLessThanOrEqual(CAP);
        expect(st.bufferedAmount).toBeLessThanOrEqual(CAP + biggestFragment);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(feed.stats().subscribers).toBe(1);
    } finally {
      slow.destroy();
    }
    await expect.poll(() => stats()).toBeUndefined();
  }, 90_000);
});
