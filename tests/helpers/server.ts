/**
 * Starts the real server on port 0 with an in-memory SQLite database and a
 * small seeded demo county, for integration tests over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { SimCameraInfo } from '../../scripts/sim/index.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/src/api/contract.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStreamsEngine, type StreamsEngine } from '../../server/src/relay/streams-engine.ts';
import { validateSourceUrl } from '../../streams/src/index.ts';

const checkStreamUrl = (url: string) => {
  const r = validateSourceUrl(url);
  return r.ok ? { ok: true as const, url: r.url } : { ok: false as const, reason: r.reason };
};
import { startServer, type RunningServer } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/load.ts';
import { createSecretBox } from '../../server/src/crypto/secret-box.ts';
import { openSqlite, type SqlDb } from '../../server/src/db/sqlite.ts';
import type { Store } from '../../server/src/db/store.ts';
import { openPostgres } from '../../server/src/db/postgres.ts';
import pg from 'pg';
import { DEMO_PASSWORD, seedDemo } from '../../server/src/demo/seed.ts';
import { createLogger, type Clock, type Logger } from '../../server/src/http/logger.ts';
import { claimLoopbackBlock } from '../../scripts/sim/addresses.ts';
import { createPictureProbe, type PictureProbe } from '../../server/src/quality/probe.ts';

export interface TestServer {
  url: string;
  api: string;
  server: RunningServer;
  /**
   * The SQLite database, for tests that read it directly. With CCC_STORAGE__DRIVER=postgres there is none:
   * every use throws, naming `store` (the suite's PostgreSQL run, issue 13).
   */
  db: SqlDb;
  /** The storage the server runs on (SQLite's store, or this test file's own PostgreSQL database). */
  store: Store;
  /** The real media plane, when started with `relay: true`. */
  engine: StreamsEngine | null;
  /** Logs in and returns the bearer token. */
  login(username: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    cameras?: number;
    townships?: number;
    villages?: number;
    overrides?: Record<string, unknown>;
    clock?: Clock;
    /** Serve the built client (browser tests). */
    clientDir?: string;
    /** Run the real media plane (ffmpeg into a private temporary directory). */
    relay?: boolean;
    tokenKey?: Buffer;
    /** A database file instead of memory (to share with another server process). */
    sqlitePath?: string;
    /**
     * One database for several servers (a cluster, a restart): a SQLite file, or under
     * CCC_STORAGE__DRIVER=postgres a PostgreSQL database; see `sharedDatabase()`. Closing a server leaves it.
     */
    shared?: SharedDatabase;
    /** The key that seals camera credentials (random by default); a restarted server on the same file needs the same. */
    secretKey?: Buffer;
    /** Picture diagnosis with the real ffmpeg (issue 16). */
    diagnosis?: boolean;
    /** A stand-in for the picture diagnosis (unit-like tests of sweeps). */
    pictureProbe?: PictureProbe;
    /** The live socket's tuning (issue 15). */
    liveSocket?: { maxQueueBytes?: number; recheckMs?: number };
    /** The server's logger (a test reading the log lines); errors only to stderr by default. */
    log?: Logger;
  } = {},
): Promise<TestServer> {
  const config = loadConfig({
    profile: 'test',
    env: {},
    overrides: { server: { port: 0, host: '127.0.0.1' }, ...(opts.overrides ?? {}) },
  });
  const sqlitePath = opts.sqlitePath ?? opts.shared?.sqlitePath;
  const pg = opts.shared?.postgresUrl
    ? await joinPostgres(opts.shared.postgresUrl)
    : !sqlitePath && process.env['CCC_STORAGE__DRIVER'] === 'postgres'
      ? await ownPostgres()
      : null;
  const db = pg ? sqliteMissing() : openSqlite(sqlitePath ?? ':memory:');
  const hlsDir = opts.relay ? mkdtempSync(path.join(tmpdir(), 'ccc-hls-')) : null;
  const engine = hlsDir
    ? createStreamsEngine({ ...config.relay, hlsDir }, createLogger('error'), `test-${process.pid}`)
    : null;
  const secrets = createSecretBox(opts.secretKey ?? randomBytes(32));
  // Diagnosis thumbnails pass through here on their way into the database.
  const qualityDir = opts.diagnosis ? mkdtempSync(path.join(tmpdir(), 'ccc-quality-')) : null;
  // A server that fails to start (a test of a refused configuration) leaves no database behind.
  const server = await startServer({
    config,
    ...(pg ? { store: pg.store } : { db }),
    clock: opts.clock ?? { now: () => new Date() },
    secrets,
    log: opts.log ?? createLogger('error'),
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    ...(engine ? { relayEngine: engine, validateStreamUrl: checkStreamUrl } : {}),
    ...(opts.tokenKey ? { tokenKey: opts.tokenKey } : {}),
    ...(opts.pictureProbe ? { pictureProbe: opts.pictureProbe } : {}),
    ...(opts.liveSocket ? { liveSocket: opts.liveSocket } : {}),
    ...(opts.diagnosis
      ? {
          pictureProbe: createPictureProbe({
            ffmpegPath: 'ffmpeg',
            tmpDir: qualityDir!,
            niceLevel: config.quality.niceLevel,
            ...(engine ? { openSource: (s) => engine.proxy.open(s) } : {}),
          }),
          validateStreamUrl: checkStreamUrl,
        }
      : {}),
  }).catch(async (err: unknown) => {
    if (pg) await pg.drop();
    else db.close();
    if (hlsDir) rmSync(hlsDir, { recursive: true, force: true });
    if (qualityDir) rmSync(qualityDir, { recursive: true, force: true });
    throw err;
  });
  const { orgs, cameras, users } = server.app.repos;
  // The seeded points' addresses are a block of this run's own on which nothing answers: a demo running
  // beside the tests (127.0.1.x) or another run must not make them come alive (issue 12).
  const silent = await claimLoopbackBlock();
  await seedDemo(
    { orgs, cameras, users, secrets },
    {
      seed: 7,
      townships: opts.townships ?? 3,
      villagesPerTownship: opts.villages ?? 2,
      cameras: opts.cameras ?? 60,
      center: [118.8, 30.95],
      hostOf: (i) => silent.host(1 + (i % 250)),
    },
  );
  const api = `${server.url}/api/v1`;
  return {
    url: server.url,
    api,
    server,
    db,
    store: server.app.store,
    async login(username, password = DEMO_PASSWORD) {
      const res = await fetch(`${api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    engine,
    async close() {
      await server.close();
      if (pg) await pg.drop();
      else db.close();
      await silent.release();
      if (hlsDir) rmSync(hlsDir, { recursive: true, force: true });
      if (qualityDir) rmSync(qualityDir, { recursive: true, force: true });
    },
  };
}

/** fetch with a bearer token and JSON helpers. */
export function client(api: string, token?: string) {
  const headers = (extra: Record<string, string> = {}) => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json: json as any, text, headers: res.headers };
  };
  return {
    get: (p: string) => call('GET', p),
    post: (p: string, b?: unknown) => call('POST', p, b),
    patch: (p: string, b?: unknown) => call('PATCH', p, b),
    put: (p: string, b?: unknown) => call('PUT', p, b),
    del: (p: string) => call('DELETE', p),
    raw: (method: string, p: string, body: NonNullable<RequestInit['body']>, contentType: string) =>
      fetch(`${api}${p}`, { method, headers: headers({ 'content-type': contentType }), body }),
  };
}

export type TypedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Connects a Socket.IO client as `username` and records every `event` it hears. */
export async function listenAs<E extends keyof ServerToClientEvents>(
  t: TestServer,
  username: string,
  event: E,
): Promise<{ socket: TypedSocket; heard: Parameters<ServerToClientEvents[E]>[0][] }> {
  const heard: Parameters<ServerToClientEvents[E]>[0][] = [];
  const socket: TypedSocket = io(t.url, { auth: { token: await t.login(username) }, transports: ['websocket'] });
  // socket.io's listener type is not generic over E; the payload type is fixed by the contract above.
  socket.on(event as 'camera:status', ((e: Parameters<ServerToClientEvents[E]>[0]) => heard.push(e)) as never);
  await new Promise((r) => socket.once('connect', () => r(null)));
  return { socket, heard };
}

/** One round trip on each socket: whatever the server sent before has arrived. */
export function settle(sockets: TypedSocket[]): Promise<unknown> {
  return Promise.all(sockets.map((s) => new Promise((r) => s.emit('session:whoami', r))));
}

type ApiClient = ReturnType<typeof client>;

/** The first village in the caller's org tree. */
export async function firstVillage(c: ApiClient): Promise<number> {
  const orgs = (await c.get('/org-units')).json as { id: number; level: string }[];
  const v = orgs.find((o) => o.level === 'village');
  if (!v) throw new Error('no village in scope');
  return v.id;
}

/**
 * Registers a simulated camera as a point through the API (its ONVIF
 * address, streams and credentials) and returns the point's id; `fields`
 * fill in or override the rest.
 */
export async function registerSimCamera(
  c: ApiClient,
  cam: Pick<SimCameraInfo, 'deviceServiceUrl' | 'mainStreamUri' | 'subStreamUri' | 'username' | 'password' | 'ptz'>,
  fields: Record<string, unknown>,
): Promise<number> {
  const r = await c.post('/cameras', {
    networkId: 'xueliang',
    position: { lon: 118.7, lat: 31 },
    onvifUrl: cam.deviceServiceUrl,
    mainStreamUri: cam.mainStreamUri,
    subStreamUri: cam.subStreamUri,
    credentials: { username: cam.username, password: cam.password },
    ptz: cam.ptz,
    ...fields,
  });
  if (r.status !== 201) throw new Error(`registering ${cam.deviceServiceUrl}: ${r.status} ${r.text}`);
  return r.json.id as number;
}

/** The PostgreSQL that CI and these machines run (trust authentication); CCC_TEST_POSTGRES_URL overrides. */
const PG_ADMIN_URL = process.env['CCC_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database several test servers share; `drop()` removes it once they are closed. */
export interface SharedDatabase {
  /** Set on SQLite: the file. */
  sqlitePath?: string;
  /** Set on PostgreSQL: the database's URL. */
  postgresUrl?: string;
  drop(): Promise<void>;
}

/** A new database for a cluster of test servers, on the engine this run tests (CCC_STORAGE__DRIVER). */
export async function sharedDatabase(): Promise<SharedDatabase> {
  if (process.env['CCC_STORAGE__DRIVER'] === 'postgres') {
    const { url, drop } = await createPostgresDatabase();
    return { postgresUrl: url, drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-shared-'));
  return {
    sqlitePath: path.join(dir, 'ccc.db'),
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The environment that points a server process (server/src/main.ts) at `shared`. */
export function sharedDatabaseEnv(shared: SharedDatabase): Record<string, string> {
  return shared.postgresUrl
    ? { CCC_STORAGE__DRIVER: 'postgres', CCC_STORAGE__POSTGRES__URL: shared.postgresUrl }
    : { CCC_STORAGE__DRIVER: 'sqlite', CCC_STORAGE__SQLITE__PATH: shared.sqlitePath! };
}

/** A new, empty PostgreSQL database on the test server; `drop()` ends its connections and removes it. */
export async function createPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `ccc_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** A connection pool on a shared database; closing the server closes the pool, not the database. */
async function joinPostgres(url: string): Promise<{ store: Store; drop(): Promise<void> }> {
  const store = await openPostgres({ url, max: 5, applicationName: 'ccc-test' });
  return { store, drop: () => store.close() };
}

/** A database of this server's own, dropped when it closes: test files never see each other's rows. */
async function ownPostgres(): Promise<{ store: Store; drop(): Promise<void> }> {
  const database = await createPostgresDatabase();
  const store = await openPostgres({ url: database.url, max: 5, applicationName: 'ccc-test' });
  return {
    store,
    async drop() {
      await store.close();
      await database.drop();
    },
  };
}

/** Stands in for `t.db` on PostgreSQL: a test that reads SQLite directly says so instead of passing wrongly. */
function sqliteMissing(): SqlDb {
  return new Proxy({} as SqlDb, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`t.db.${String(prop)}: this server runs on PostgreSQL; read through t.store`);
      };
    },
  });
}
