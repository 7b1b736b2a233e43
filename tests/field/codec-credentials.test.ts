/**
 * Issue 12, item 10, against real processes: codec detection is ffmpeg's own probe (no ffprobe: the npm
 * fallback ffmpeg ships without it), read over HTTP from files real encoders wrote; and a camera password that
 * no longer decrypts (the secret key changed between two starts of the server on one database) is its own
 * reason — a coded 409 naming `credentials` on open, the cause on the point after a health check — never
 * "no credentials" and never an authentication failure against the camera.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { buildCodecProbeArgs, codecFromProbe } from '../../server/src/relay/streams-engine.ts';
import { client, firstVillage, sharedDatabase, startTestServer, type SharedDatabase } from '../helpers/server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ccc-codec-'));
let http: Server;
let base = '';

function encode(name: string, codec: string): void {
  const r = spawnSync(
    'ffmpeg',
    // prettier-ignore
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10', '-t', '2',
      '-c:v', codec, '-pix_fmt', 'yuv420p', '-f', 'mpegts', path.join(dir, name)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg ${codec}: ${r.stderr}`);
}

function probe(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', buildCodecProbeArgs(url), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.once('error', reject);
    p.once('exit', () => resolve(err));
  });
}

beforeAll(async () => {
  encode('h264.ts', 'libx264');
  encode('h265.ts', 'libx265');
  http = createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url ?? ''));
    try {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => http?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('codec detection with ffmpeg alone', () => {
  it('tells H.265 from H.264 in what ffmpeg prints about a real stream', async () => {
    expect(codecFromProbe(await probe(`${base}/h265.ts`))).toBe('h265');
    expect(codecFromProbe(await probe(`${base}/h264.ts`))).toBe('h264');
  });

  it('an input that is not video is unknown, not a guess', async () => {
    expect(codecFromProbe(await probe(`${base}/missing.ts`))).toBe('unknown');
  });

  it('refuses to put a password on the command line', () => {
    expect(() => buildCodecProbeArgs('rtmp://user:pw@127.0.0.1/live/x')).toThrow(/credentials/);
  });
});

describe('a password that no longer decrypts', () => {
  let block: LoopbackBlock;
  // The two starts' database: a SQLite file, or under CCC_STORAGE__DRIVER=postgres a PostgreSQL database.
  let db: SharedDatabase;

  beforeAll(async () => {
    block = await claimLoopbackBlock();
    db = await sharedDatabase();
  });
  afterAll(async () => {
    await block?.release();
    await db?.drop();
  });

  it('is said as such on open and on the point, before anything is sent to the camera', async () => {
    const first = await startTestServer({ cameras: 0, shared: db, secretKey: randomBytes(32) });
    let id = 0;
    try {
      const tech = client(first.api, await first.login('tech'));
      const r = await tech.post('/cameras', {
        name: '换钥匙的点位',
        networkId: 'xueliang',
        orgUnitId: await firstVillage(tech),
        position: { lon: 118.7, lat: 31 },
        mainStreamUri: `rtsp://${block.host(1)}:554/main`,
        credentials: { username: 'admin', password: 'Old-Key-pw1' },
      });
      expect(r.status, r.text).toBe(201);
      id = r.json.id as number;
      expect(r.json.credentialsUnreadable).toBeUndefined();
    } finally {
      await first.close();
    }

    // The same database, another secret key.
    const second = await startTestServer({ cameras: 0, shared: db, secretKey: randomBytes(32) });
    try {
      const viewer = client(second.api, await second.login('county'));
      const open = await viewer.post(`/cameras/${id}/stream`, { quality: 'main' });
      expect(open.status, open.text).toBe(409);
      expect(open.json.error.code).toBe('credentials_unreadable');
      expect(JSON.stringify(open.json)).toContain('"credentials"');

      await second.server.app.health.sweep();
      const tech = client(second.api, await second.login('tech'));
      const point = await tech.get(`/cameras/${id}`);
      expect(point.status, point.text).toBe(200);
      expect(point.json.statusReason).toMatch(/cannot be decrypted/);
      expect(point.json.credentialsUnreadable).toBe(true);
      // The list says it too, asked twice (the second answer from the remembered verdict).
      for (let i = 0; i < 2; i++) {
        const listed = (await tech.get('/cameras?limit=50')).json.items as {
          id: number;
          credentialsUnreadable?: boolean;
        }[];
        expect(listed.find((p) => p.id === id)?.credentialsUnreadable).toBe(true);
      }
      expect(point.json.status).not.toBe('online');
    } finally {
      await second.close();
    }
  }, 60_000);
});
