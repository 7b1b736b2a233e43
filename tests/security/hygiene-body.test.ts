/**
 * JSON bodies: bytes that are not UTF-8 are refused (not stored as U+FFFD), and the size limit
 * holds for the bytes actually read, whatever the framing (Content-Length, chunked, gzip).
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let token: string;
let tech: ReturnType<typeof client>;
let village = 0;
const LIMIT_KB = 16;

const total = async () => (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points'))!.n;

/** POSTs over a raw socket so that the framing is ours: chunks without Content-Length, or a gzip body. */
function post(
  path: string,
  chunks: Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.api}${path}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    // The server may answer 413 and close before every chunk is written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const camera = (extra: Record<string, unknown> = {}) => ({
  name: '编码测试点位',
  networkId: 'xueliang',
  orgUnitId: village,
  position: { lon: 118.8, lat: 30.95 },
  ...extra,
});

beforeAll(async () => {
  t = await startTestServer({
    cameras: 4,
    overrides: { server: { port: 0, host: '127.0.0.1', bodyLimitKb: LIMIT_KB } },
  });
  token = await t.login('tech');
  tech = client(t.api, token);
  village = await firstVillage(tech);
});
afterAll(async () => t?.close());

describe('JSON bodies must be UTF-8', () => {
  it('refuses bytes that are not UTF-8 with 400 bad_encoding naming the body, and writes nothing', async () => {
    const before = await total();
    const json = Buffer.from(JSON.stringify(camera({ name: 'AB' })), 'utf8');
    // Replace "AB" with a lone continuation byte and a truncated 3-byte sequence.
    const at = json.indexOf('AB');
    json[at] = 0x80;
    json[at + 1] = 0xe6;
    const r = await post('/cameras', [json]);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_encoding');
    expect(r.json.error.fields).toMatchObject([{ path: 'body', message: 'not valid UTF-8' }]);
    expect(await total()).toBe(before);
    expect(await t.store.get('SELECT 1 AS x FROM camera_points WHERE name LIKE ?', ['%\uFFFD%'])).toBeUndefined();
  });

  it('refuses an overlong encoding of "/" (a classic filter bypass) and a UTF-8-encoded surrogate', async () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      const json = Buffer.concat([
        Buffer.from('{"name":"x'),
        Buffer.from(bad),
        Buffer.from(`","networkId":"xueliang","orgUnitId":${village},"position":{"lon":118.8,"lat":30.95}}`),
      ]);
      const r = await post('/cameras', [json]);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('bad_encoding');
    }
  });

  it('refuses a charset other than UTF-8 with 415', async () => {
    const body = Buffer.from(JSON.stringify(camera()), 'utf16le');
    const r = await post('/cameras', [body], { 'content-type': 'application/json; charset=utf-16le' });
    expect(r.status).toBe(415);
    expect(r.json.error.fields[0].path).toBe('body');
  });

  it('still takes Chinese text and an explicit UTF-8 charset', async () => {
    const body = Buffer.from(JSON.stringify(camera({ name: '城关镇东门路口' })), 'utf8');
    const r = await post('/cameras', [body], { 'content-type': 'application/json; charset=UTF-8' });
    expect(r.status).toBe(201);
    expect(r.json.name).toBe('城关镇东门路口');
  });
});

describe('the body limit counts the bytes read, whatever the framing', () => {
  const big = () => Buffer.from(JSON.stringify(camera({ address: 'x'.repeat(LIMIT_KB * 1024 + 10) })));

  it('a chunked body over the limit is 413 and writes nothing', async () => {
    const before = await total();
    const body = big();
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 1000) chunks.push(body.subarray(i, i + 1000));
    const r = await post('/cameras', chunks);
    expect(r.status).toBe(413);
    expect(r.json.error.fields[0].path).toBe('body');
    expect(await total()).toBe(before);
  });

  it('a gzip body small on the wire but over the limit once inflated is 413', async () => {
    const packed = gzipSync(big());
    expect(packed.length).toBeLessThan(LIMIT_KB * 1024);
    const r = await post('/cameras', [packed], { 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
  });

  it('a chunked body under the limit is read whole', async () => {
    const body = Buffer.from(JSON.stringify(camera({ name: '分块点位' })));
    const r = await post('/cameras', [body.subarray(0, 7), body.subarray(7)]);
    expect(r.status).toBe(201);
    expect(r.json.name).toBe('分块点位');
  });
});
