/**
 * Two server processes' worth of Socket.IO sharing one real Redis through
 * the Streams adapter and one database (a SQLite file, or under
 * CCC_STORAGE__DRIVER=postgres one PostgreSQL database): an alert ingested
 * over A's HTTP API reaches a client connected to B, in scope only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import {
  client,
  sharedDatabase,
  sharedDatabaseEnv,
  startTestServer,
  type SharedDatabase,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';
import { deleteRedisKeys, serviceAvailable } from './services.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const haveRedis = await serviceAvailable('Redis', '127.0.0.1', 6379);
const prefix = `ccc-test-${process.pid}-${randomBytes(4).toString('hex')}`;

let a: TestServer;
let b: TestServer;
let db: SharedDatabase | null = null;
let key = '';
const heard: { t1: AlertView[]; t2: AlertView[] } = { t1: [], t2: [] };
const sockets: TypedSocket[] = [];

async function listenOn(t: TestServer, user: string, into: AlertView[]): Promise<TypedSocket> {
  const s: TypedSocket = io(t.url, { auth: { token: await t.login(user) }, transports: ['websocket'] });
  s.on('alert:new', (alert) => into.push(alert));
  await new Promise((r) => s.once('connect', () => r(null)));
  sockets.push(s);
  return s;
}

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

describe.skipIf(!haveRedis)('scale-out through Redis Streams', () => {
  beforeAll(async () => {
    const overrides = { redis: { url: REDIS_URL, keyPrefix: prefix } };
    db = await sharedDatabase();
    a = await startTestServer({ townships: 2, villages: 1, cameras: 0, overrides, shared: db });
    b = await startTestServer({ townships: 2, villages: 1, cameras: 0, overrides, shared: db });
    const admin = client(a.api, await a.login('admin'));
    const township1 = a.server.app.repos.orgs.all().find((u) => u.level === 'township')!;
    const r = await admin.post('/alert-sources', { name: '一键报警柱', orgUnitId: township1.id });
    expect(r.status).toBe(201);
    key = r.json.key as string;
    await listenOn(b, 'township1', heard.t1);
    await listenOn(b, 'township2', heard.t2);
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await a?.close();
    await b?.close();
    await db?.drop();
    if (haveRedis) await deleteRedisKeys('127.0.0.1', 6379, `${prefix}:*`);
  });

  it('delivers an alert ingested on A to a client in scope on B, and not to another township', async () => {
    const all = a.server.app.repos.orgs.all();
    const township1 = all.find((u) => u.level === 'township')!;
    const village = all.find((u) => u.parentId === township1.id)!;
    const ingest = (type: string) =>
      fetch(`${a.api}/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': key },
        body: JSON.stringify({ type, level: 'red', title: `${type} ${prefix}`, position: centreOf(village) }),
      });
    // The adapter on B begins reading the stream shortly after start; retry with a new type until it listens.
    let delivered = false;
    for (const type of ['alarm_button', 'intrusion', 'fire', 'crowd', 'other']) {
      const res = await ingest(type);
      expect(res.status).toBe(201);
      const id = ((await res.json()) as AlertView).id;
      if (await until(() => heard.t1.some((x) => x.id === id), 2000)) {
        delivered = true;
        break;
      }
    }
    expect(delivered).toBe(true);
    await Promise.all(sockets.map((s) => new Promise((r) => s.emit('session:whoami', r))));
    expect(heard.t1.every((x) => x.orgUnitId === village.id)).toBe(true);
    expect(heard.t2).toEqual([]);
  });
});

function centreOf(u: { boundary: unknown }): { lon: number; lat: number } {
  const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
  const [x0, y0] = ring[0]!;
  const [x1, y1] = ring[2]!;
  return { lon: (x0! + x1!) / 2, lat: (y0! + y1!) / 2 };
}

describe.skipIf(!haveRedis)('scale-out across two operating-system processes', () => {
  let shared: SharedDatabase | null = null;
  let child: ChildProcess | null = null;
  let local: TestServer;

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child!.once('exit', r));
    await local?.close();
    await shared?.drop();
  });

  it('delivers an alert ingested here to a client of the platform running in another process', async () => {
    shared = await sharedDatabase();
    const processPrefix = `${prefix}-p`;
    local = await startTestServer({
      townships: 2,
      villages: 1,
      cameras: 0,
      shared,
      overrides: { redis: { url: REDIS_URL, keyPrefix: processPrefix } },
    });
    // The second process is the real entry point on the same database and Redis.
    child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../server/src/main.ts')], {
      env: {
        PATH: process.env.PATH,
        CCC_PROFILE: 'test',
        CCC_SERVER__PORT: '0',
        ...sharedDatabaseEnv(shared),
        CCC_REDIS__URL: REDIS_URL,
        CCC_REDIS__KEY_PREFIX: processPrefix,
        CCC_SECRET_KEY: randomBytes(32).toString('base64'),
        CCC_LOG__LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /running at (http:\/\/[\d.]+:\d+)\//.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`second process exited ${code}`)));
    });
    const remote = { url, api: `${url}/api/v1` };
    const login = async (username: string) => {
      const r = await fetch(`${remote.api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'Demo@2026' }),
      });
      return ((await r.json()) as { token: string }).token;
    };
    const t1: AlertView[] = [];
    const t2: AlertView[] = [];
    const mine: TypedSocket[] = [];
    for (const [user, into] of [
      ['township1', t1],
      ['township2', t2],
    ] as const) {
      const s: TypedSocket = io(url, { auth: { token: await login(user) }, transports: ['websocket'] });
      s.on('alert:new', (x) => into.push(x));
      await new Promise((r) => s.once('connect', () => r(null)));
      mine.push(s);
    }
    const all = local.server.app.repos.orgs.all();
    const township1 = all.find((u) => u.level === 'township')!;
    const village = all.find((u) => u.parentId === township1.id)!;
    const admin = client(local.api, await local.login('admin'));
    const src = await admin.post('/alert-sources', { name: '跨进程', orgUnitId: township1.id });
    expect(src.status).toBe(201);
    let delivered = false;
    for (const type of ['alarm_button', 'intrusion', 'fire', 'crowd', 'other']) {
      const res = await fetch(`${local.api}/alerts/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-key': src.json.key as string },
        body: JSON.stringify({ type, level: 'red', title: `跨进程 ${type}`, position: centreOf(village) }),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as AlertView).id;
      if (await until(() => t1.some((x) => x.id === id), 2000)) {
        delivered = true;
        break;
      }
    }
    expect(delivered).toBe(true);
    await Promise.all(mine.map((s) => new Promise((r) => s.emit('session:whoami', r))));
    expect(t2).toEqual([]);
    for (const s of mine) s.close();
  }, 60_000);
});

describe('without a reachable Redis', () => {
  it('starts anyway and pushes in-process', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const t = await startTestServer({
      townships: 1,
      villages: 1,
      cameras: 0,
      overrides: { redis: { url: 'redis://127.0.0.1:1', keyPrefix: prefix } },
    });
    try {
      const into: AlertView[] = [];
      const socket = await listenOn(t, 'county', into);
      const admin = client(t.api, await t.login('admin'));
      const r = await admin.post('/alerts', {
        level: 'yellow',
        title: '人工上报',
        position: centreOf(t.server.app.repos.orgs.all().find((u) => u.level === 'village')!),
      });
      expect(r.status).toBe(201);
      expect(await until(() => into.some((a) => a.id === r.json.id), 3000)).toBe(true);
      socket.close();
    } finally {
      await t.close();
    }
  }, 20_000);
});
