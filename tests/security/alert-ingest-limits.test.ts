/**
 * Issue 11: what an unauthenticated or careless device can make the alert
 * ingestion do. The 16 KB body limit holds on the bytes actually read,
 * whatever the framing; free text refuses control and bidi characters; wrong
 * keys are throttled per address and audited by sample. Time is a fake clock.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/load.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';
import { alertCount, centre, deviceKey, fieldPaths, ingest, places } from '../alerts/places.ts';

let now = Date.parse('2025-03-01T08:00:00Z');
const clock = { now: () => new Date(now) };
let t: TestServer;
let key = '';
let here: [number, number] = [0, 0];
const config = loadConfig({ profile: 'test', env: {} }).alerts;

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 0, clock });
  const p = places(t);
  key = await deviceKey(t, '县AI分析盒', p.county.id);
  here = centre(p.villagesOf(p.townships[0]!)[0]!);
});

afterAll(async () => {
  await t?.close();
});

/** Posts `body` in chunks with Transfer-Encoding: chunked (no Content-Length). */
function postChunked(body: string): Promise<{ status: number; json: any }> {
  const url = new URL(`${t.api}/alerts/ingest`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-device-key': key },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    // The server may answer and close before the last chunk is written.
    req.on('error', reject);
    const bytes = Buffer.from(body);
    for (let i = 0; i < bytes.length; i += 1024) req.write(bytes.subarray(i, i + 1024));
    req.end();
  });
}

describe('the ingest body limit counts the bytes read', () => {
  it('refuses a chunked body over the limit with 413 naming body, and stores nothing', async () => {
    const before = await alertCount(t);
    const padding = ' '.repeat(config.maxBodyBytes);
    const body = `{"type":"fire","level":"red",${padding}"position":{"lon":${here[0]},"lat":${here[1]}}}`;
    const r = await postChunked(body);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('too_large');
    expect(r.json.error.fields.map((f: { path: string }) => f.path)).toEqual(['body']);
    expect(await alertCount(t)).toBe(before);
  });

  it('takes a chunked body under the limit', async () => {
    const r = await postChunked(
      JSON.stringify({ type: 'other', level: 'red', position: { lon: here[0], lat: here[1] } }),
    );
    expect(r.status).toBe(201);
  });
});

describe('free text from devices and officers', () => {
  it.each([
    ['BEL in a title', { title: '烟火\u0007报警' }, 'title'],
    ['ESC in a title', { title: '\u001b[31m烟火' }, 'title'],
    ['a right-to-left override in a title', { title: '报警\u202egpj.exe' }, 'title'],
    ['ESC in a description', { description: '现场\u001b[2J' }, 'description'],
    ['a bidi isolate in a description', { description: '现场\u2067说明' }, 'description'],
  ])('refuses %s with 400 naming the field', async (_what, extra, field) => {
    const before = await alertCount(t);
    const r = await ingest(t, key, { type: 'fire', level: 'red', position: { lon: here[0], lat: here[1] }, ...extra });
    expect(r.status).toBe(400);
    expect(fieldPaths(r)).toEqual([field]);
    expect(await alertCount(t)).toBe(before);
  });

  it('refuses them in manual reports, action notes and source names too', async () => {
    const county = client(t.api, await t.login('county'));
    const report = await county.post('/alerts', {
      level: 'red',
      title: '上报\u0007',
      position: { lon: here[0], lat: here[1] },
    });
    expect(report.status).toBe(400);
    expect(report.json.error.fields.map((f: { path: string }) => f.path)).toEqual(['title']);
    const ok = await county.post('/alerts', {
      level: 'red',
      title: '道路积水',
      position: { lon: here[0], lat: here[1] },
    });
    expect(ok.status).toBe(201);
    const note = await county.post(`/alerts/${ok.json.id}/ack`, { note: '已查看\u001b' });
    expect(note.status).toBe(400);
    expect(note.json.error.fields.map((f: { path: string }) => f.path)).toEqual(['note']);
    const admin = client(t.api, await t.login('admin'));
    const source = await admin.post('/alert-sources', { name: '报警柱\u202e', orgUnitId: ok.json.orgUnitId });
    expect(source.status).toBe(400);
    expect(source.json.error.fields.map((f: { path: string }) => f.path)).toEqual(['name']);
  });

  it('keeps line breaks in a description', async () => {
    const r = await ingest(t, key, {
      type: 'crowd',
      level: 'blue',
      position: { lon: here[0], lat: here[1] },
      description: '第一行\n第二行',
    });
    expect(r.status).toBe(201);
    expect(r.json.description).toBe('第一行\n第二行');
  });
});

describe('wrong device keys', () => {
  const body = () => ({ type: 'fire', level: 'red', position: { lon: here[0], lat: here[1] } });
  const denials = async () =>
    (await t.store.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'alert.ingest' AND outcome = 'denied'",
    ))!.n;
  const limit = (config as { wrongKeyAttemptsPerMinute?: number }).wrongKeyAttemptsPerMinute ?? 10;

  it('are throttled per address with 429 and Retry-After, and audited by sample', async () => {
    now += 3_600_000;
    const before = await denials();
    for (let i = 0; i < limit; i++) expect((await ingest(t, `wrong-${i}`, body())).status).toBe(401);
    const throttled = await ingest(t, 'wrong-again', body());
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // A key guessed right while throttled is not told so.
    expect((await ingest(t, key, body())).status).toBe(429);
    expect((await ingest(t, null, body())).status).toBe(429);
    // One audit row for the window, not one per attempt.
    expect((await denials()) - before).toBe(1);
  });

  it('are let through again, and sampled again, once the window has passed', async () => {
    const before = await denials();
    now += 61_000;
    expect((await ingest(t, 'wrong-later', body())).status).toBe(401);
    expect((await ingest(t, 'wrong-later-2', body())).status).toBe(401);
    expect((await denials()) - before).toBe(1);
    expect((await ingest(t, key, body())).status).toBeLessThan(300);
  });
});
