/**
 * RTMP push ingest over real sockets and real ffmpeg: publish keys, who may
 * publish and play, one publisher per point, revocation, the relay to HLS,
 * health from publish state, and a port that survives malformed input.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let tech: ReturnType<typeof client>;
/** A playlist or segment plays only for the session that asked for its ticket. */
let asTech: RequestInit = {};
let admin: ReturnType<typeof client>;
let rtmpPort = 0;
let camId = 0;
let key = '';
const children = new Set<ChildProcess>();

interface Publisher {
  child: ChildProcess;
  /** Resolves when ffmpeg ends: its exit code and how long it ran. */
  exited: Promise<{ code: number | null; ms: number; stderr: string }>;
}

/** ffmpeg pushing a test pattern, as a body-worn camera would. */
function publish(id: number, publishKey: string): Publisher {
  const started = Date.now();
  // prettier-ignore
  const child = spawn('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15',
    '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/cam${id}?key=${publishKey}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; ms: number; stderr: string }>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, ms: Date.now() - started, stderr });
    }),
  );
  return { child, exited };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

const audits = async (action: string) =>
  (await admin.get(`/audit?action=${action}&limit=50`)).json.items as {
    outcome: string;
    ip: string | null;
    targetId: string | null;
    detail: Record<string, unknown> | null;
  }[];

const cameraStatus = async () => (await tech.get(`/cameras/${camId}`)).json.status as string;

beforeAll(async () => {
  t = await startTestServer({
    relay: true,
    overrides: {
      ingest: { enabled: true, host: '127.0.0.1', port: 0 },
      relay: { startTimeoutMs: 15_000 },
    },
  });
  rtmpPort = t.server.ingest!.port;
  const techToken = await t.login('tech');
  tech = client(t.api, techToken);
  asTech = { headers: { authorization: `Bearer ${techToken}` } };
  admin = client(t.api, await t.login('admin'));
  // The point belongs to township 2, so township 1's technician is outside its jurisdiction.
  const township2 = (await t.server.app.repos.users.byUsername('township2'))!.orgUnitId;
  const village = ((await tech.get('/org-units')).json as { id: number; parentId: number | null }[]).find(
    (o) => o.parentId === township2,
  )!.id;
  const r = await tech.post('/cameras', {
    name: '执法记录仪 01',
    networkId: 'urban',
    orgUnitId: village,
    position: { lon: 118.81, lat: 30.95 },
  });
  expect(r.status, r.text).toBe(201);
  camId = r.json.id;
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await t?.close();
});

describe('publish keys', () => {
  it('issues a key once, points the camera at the ingest, and never shows the key again', async () => {
    const r = await tech.post(`/cameras/${camId}/publish-key`);
    expect(r.status, r.text).toBe(201);
    expect(r.headers.get('cache-control')).toContain('no-store');
    expect(r.json.publishUrl).toBe(`rtmp://127.0.0.1:${rtmpPort}/live/cam${camId}`);
    expect(r.json.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    key = r.json.key;

    const cam = await tech.get(`/cameras/${camId}`);
    expect(cam.json.mainStreamUri).toBe(`rtmp://127.0.0.1:${rtmpPort}/live/cam${camId}`);
    expect(cam.json.subStreamUri).toBeNull();
    expect(cam.text).not.toContain(key);
    expect((await tech.get('/cameras?limit=500')).text).not.toContain(key);
    // Only the hash is stored; the audit names the operation, not the key.
    const row = (await t.store.get<{ key_hash: string }>('SELECT key_hash FROM ingest_keys WHERE camera_id = ?', [
      camId,
    ]))!;
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    const audit = await audits('ingest.key');
    expect(audit[0]).toMatchObject({ outcome: 'ok', targetId: String(camId), detail: { op: 'create' } });
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('issuing again rotates the key: the old one stops working', async () => {
    const old = key;
    const r = await tech.post(`/cameras/${camId}/publish-key`, {});
    expect(r.status).toBe(201);
    key = r.json.key;
    expect(key).not.toBe(old);
    const ask = (k: string) =>
      t.server.app.ingest.hooks.authorizePublish({
        id: 'x',
        app: 'live',
        name: `cam${camId}`,
        query: { key: k },
        address: '127.0.0.1',
        localAddress: '127.0.0.1',
      });
    expect(ask(old)).toBe('wrong key');
    expect(ask(key)).toBeNull();
    expect((await audits('ingest.key'))[0]?.detail).toEqual({ op: 'rotate' });
  });

  it('refuses unknown fields and bad ids', async () => {
    const bad = await tech.post(`/cameras/${camId}/publish-key`, { key: 'mine', ttl: 5 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['key', 'ttl']);
    expect((await tech.post('/cameras/abc/publish-key')).status).toBe(400);
    expect((await tech.del('/cameras/0/publish-key')).status).toBe(400);
    expect((await tech.post('/cameras/99999999/publish-key')).status).toBe(404);
  });

  it('answers 404 outside the jurisdiction and 403 without camera.write', async () => {
    const outsider = client(t.api, await t.login('tech1'));
    expect((await outsider.post(`/cameras/${camId}/publish-key`)).status).toBe(404);
    expect((await outsider.del(`/cameras/${camId}/publish-key`)).status).toBe(404);
    const operator = client(t.api, await t.login('township2'));
    expect((await operator.post(`/cameras/${camId}/publish-key`)).status).toBe(403);
    // The key still works: neither attempt rotated or revoked it.
    expect(await t.store.get('SELECT 1 AS x FROM ingest_keys WHERE camera_id = ?', [camId])).toBeDefined();
  });
});

describe('publishing', () => {
  let first: Publisher;

  it('refuses a wrong key quickly and audits it with the address', async () => {
    const wrong = publish(camId, 'not-the-key-aaaaaaaaaaaaaaaaaaaaaa');
    const end = await within(wrong.exited, 10_000, 'ffmpeg with a wrong key');
    expect(end.code).not.toBe(0);
    const denied = (await audits('ingest.publish')).find((a) => a.outcome === 'denied');
    expect(denied).toMatchObject({ ip: '127.0.0.1', targetId: String(camId), detail: { reason: 'wrong key' } });
    expect(JSON.stringify(denied)).not.toContain('not-the-key');
    expect(await cameraStatus()).not.toBe('online');
  });

  it('with the right key the point goes online and relays to HLS that ffprobe decodes as h264', async () => {
    first = publish(camId, key);
    await until(async () => (await cameraStatus()) === 'online', 15_000, 'camera online');
    expect((await audits('ingest.publish'))[0]).toMatchObject({ outcome: 'ok', detail: { phase: 'start' } });

    const ticket = await tech.post(`/cameras/${camId}/stream`, { quality: 'main' });
    expect(ticket.status, ticket.text).toBe(200);
    let seg = '';
    await until(
      async () => {
        const pl = await fetch(t.url + ticket.json.playlistUrl, asTech);
        seg = pl.status === 200 ? ((await pl.text()).split('\n').find((l) => l.endsWith('.ts')) ?? '') : '';
        return seg !== '';
      },
      15_000,
      'a segment in the playlist',
    );
    const s = await fetch(t.url + ticket.json.playlistUrl.replace('index.m3u8', seg), asTech);
    expect(s.status).toBe(200);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ingest-seg-')), 'seg.ts');
    writeFileSync(file, Buffer.from(await s.arrayBuffer()));
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' }),
    ) as { streams: { codec_name: string; width: number }[] };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', width: 320 });
  }, 45_000);

  it('refuses a second publisher for the same point while the first keeps streaming', async () => {
    const second = publish(camId, key);
    const end = await within(second.exited, 10_000, 'second publisher');
    expect(end.code).not.toBe(0);
    const denied = (await audits('ingest.publish')).find((a) => a.outcome === 'denied');
    expect(denied?.detail?.reason).toMatch(/already has a publisher/);
    expect(first.child.exitCode).toBeNull();
    expect(t.server.app.ingest.isPublishing(camId)).toBe(true);
    expect(await cameraStatus()).toBe('online');
  });

  it('lets only local players pull from the RTMP server', () => {
    const info = { id: 'x', app: 'live', name: `cam${camId}`, query: {} };
    const { authorizePlay } = t.server.app.ingest.hooks;
    expect(authorizePlay({ ...info, address: '127.0.0.1', localAddress: '127.0.0.1' })).toBeNull();
    expect(authorizePlay({ ...info, address: '10.8.0.5', localAddress: '10.8.0.5' })).toBeNull();
    expect(authorizePlay({ ...info, address: '10.8.0.9', localAddress: '10.8.0.5' })).toMatch(/relay only/);
  });

  it('revoking the key disconnects the publisher and the next publish fails', async () => {
    expect((await tech.del(`/cameras/${camId}/publish-key`)).status).toBe(204);
    const end = await within(first.exited, 10_000, 'revoked publisher');
    expect(end.code).not.toBe(0);
    await until(async () => (await cameraStatus()) === 'offline', 5_000, 'camera offline');
    const ended = (await audits('ingest.publish')).find((a) => a.detail?.phase === 'end');
    expect(ended?.detail).toMatchObject({ codec: 'h264', width: 320, height: 180 });
    expect((await audits('ingest.key'))[0]?.detail).toMatchObject({ op: 'revoke', disconnected: true });

    const again = publish(camId, key);
    expect((await within(again.exited, 10_000, 'publish after revoke')).code).not.toBe(0);
    expect((await audits('ingest.publish')).find((a) => a.outcome === 'denied')?.detail?.reason).toBe(
      'no publish key issued for this camera',
    );
    expect((await tech.del(`/cameras/${camId}/publish-key`)).status).toBe(404);
    // With nobody pushing, asking to watch fails at once with the reason.
    const ticket = await tech.post(`/cameras/${camId}/stream`, { quality: 'sub' });
    expect(ticket.status).toBe(502);
    expect(ticket.json.error.message).toMatch(/no device is pushing/);
  }, 30_000);
});

describe('the RTMP port', () => {
  /** C0, C1 and C2 of a plain RTMP handshake, then `chunk`. */
  const handshakeThen = (chunk: Buffer) =>
    Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536), chunk]);
  const closes = (bytes: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const s = connect(rtmpPort, '127.0.0.1', () => s.write(bytes));
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error('connection stayed open')), 5000);
    });

  it('drops a connection whose connect command breaks the parser, and keeps serving', async () => {
    // AMF0 "connect", transaction 1, { app: "live" } with no tcUrl: node-media-server throws on it.
    const amf = Buffer.concat([
      Buffer.from([0x02, 0x00, 0x07]),
      Buffer.from('connect'),
      Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x03, 0x00, 0x03]),
      Buffer.from('app'),
      Buffer.from([0x02, 0x00, 0x04]),
      Buffer.from('live'),
      Buffer.from([0x00, 0x00, 0x09]),
    ]);
    const header = Buffer.from([0x03, 0, 0, 0, 0, 0, amf.length, 0x14, 0, 0, 0, 0]);
    await closes(handshakeThen(Buffer.concat([header, amf])));
    expect((await fetch(`${t.api}/health/live`)).status).toBe(200);
  });

  it('drops a connection that announces a huge message before publishing', async () => {
    const header = Buffer.from([0x03, 0, 0, 0, 0xff, 0xff, 0xff, 0x09, 0, 0, 0, 0]);
    await closes(handshakeThen(Buffer.concat([header, Buffer.alloc(64)])));
    expect((await fetch(`${t.api}/health/live`)).status).toBe(200);
  });
});
