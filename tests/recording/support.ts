/** A real server with the real recorder (ffmpeg) on a database file, restartable on the same data (issue 14). */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/load.ts';
import { createSecretBox } from '../../server/src/crypto/secret-box.ts';
import { openPostgres } from '../../server/src/db/postgres.ts';
import { openSqlite } from '../../server/src/db/sqlite.ts';
import type { Store } from '../../server/src/db/store.ts';
import { sharedDatabase, type SharedDatabase } from '../helpers/server.ts';
import { DEMO_PASSWORD, seedDemo } from '../../server/src/demo/seed.ts';
import { createLogger } from '../../server/src/http/logger.ts';
import { createStreamsEngine } from '../../server/src/relay/streams-engine.ts';
import { streamsRecordingEngine } from '../../server/src/recording/index.ts';
import { claimLoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { validateSourceUrl } from '../../streams/src/index.ts';
import { killLeftovers } from '../../streams/src/test-support.ts';

export interface RecordingServer {
  server: RunningServer;
  /** The database (SQLite file, or under test:pg a PostgreSQL database), the same across restarts. */
  store: Store;
  url: string;
  api: string;
  login(username: string): Promise<string>;
  close(): Promise<void>;
}

export async function startRecordingServer(opts: {
  base: string;
  /** Where the data lives across restarts; a SQLite file under `base` when absent. */
  database?: SharedDatabase;
  secretKey: Buffer;
  tokenKey: Buffer;
  /** Seed the demo county (first start only). */
  seed: { hostOf: (i: number) => string } | null;
  clientDir?: string;
  segmentSeconds?: number;
  /** Live video too (the real media plane, its HLS under `base`): a wall beside the recordings. */
  live?: boolean;
}): Promise<RecordingServer> {
  mkdirSync(opts.base, { recursive: true });
  const segmentSeconds = opts.segmentSeconds ?? 2;
  const config = loadConfig({
    profile: 'test',
    env: {},
    overrides: {
      server: { port: 0, host: '127.0.0.1' },
      recording: {
        segmentSeconds,
        checkSeconds: 1,
        clipBeforeSeconds: { blue: 4, yellow: 4, orange: 4, red: 4 },
        clipAfterSeconds: { blue: 2, yellow: 2, orange: 2, red: 2 },
      },
    },
  });
  const pg = opts.database?.postgresUrl
    ? await openPostgres({ url: opts.database.postgresUrl, max: 5, applicationName: 'ccc-test' })
    : null;
  const db = pg ? undefined : openSqlite(opts.database?.sqlitePath ?? path.join(opts.base, 'db.sqlite'));
  if (opts.live) mkdirSync(path.join(opts.base, 'hls'), { recursive: true });
  const relayEngine = opts.live
    ? createStreamsEngine(
        { ...config.relay, hlsDir: path.join(opts.base, 'hls') },
        createLogger('error'),
        `rec-test-${process.pid}`,
      )
    : null;
  const server = await startServer({
    config,
    ...(pg ? { store: pg } : { db }),
    clock: { now: () => new Date() },
    secrets: createSecretBox(opts.secretKey),
    log: createLogger('error'),
    tokenKey: opts.tokenKey,
    ...(relayEngine ? { relayEngine } : {}),
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    validateStreamUrl: (url) => {
      const r = validateSourceUrl(url);
      return r.ok ? { ok: true, url: r.url } : { ok: false, reason: r.reason };
    },
    recordingEngine: streamsRecordingEngine({
      ffmpegPath: '/usr/bin/ffmpeg',
      engine: config.recording.engine,
      rootDir: path.join(opts.base, 'rec'),
      segmentSeconds,
    }),
  });
  const api = `${server.url}/api/v1`;
  if (opts.seed) {
    const { orgs, cameras, users } = server.app.repos;
    await seedDemo(
      { orgs, cameras, users, secrets: createSecretBox(opts.secretKey) },
      { seed: 7, townships: 3, villagesPerTownship: 2, cameras: 3, center: [118.8, 30.95], hostOf: opts.seed.hostOf },
    );
  }
  return {
    server,
    store: server.app.store,
    url: server.url,
    api,
    async login(username) {
      const res = await fetch(`${api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: DEMO_PASSWORD }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await server.close();
      if (pg) await pg.close();
      else db?.close();
    },
  };
}

/**
 * A recording test's bench: a folder, simulated cameras small enough to record several at once (320×180,
 * 10 fps, exact clocks) and servers started on the same data (`start`, again after a restart).
 */
export interface RecordingBench {
  base: string;
  sim: Simulator;
  start(seed: boolean): Promise<RecordingServer>;
  /** Removes everything; answers the ffmpeg processes that were left running (none expected). */
  close(): Promise<number[]>;
}

export async function openRecordingBench(opts: { prefix: string; cameras: number; seed: number }) {
  const base = mkdtempSync(path.join(tmpdir(), opts.prefix));
  const block = await claimLoopbackBlock();
  const silent = await claimLoopbackBlock();
  const secretKey = randomBytes(32);
  const tokenKey = randomBytes(32);
  const database = await sharedDatabase();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(opts.cameras, { firstIp: block.host(1), seed: opts.seed }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
    })),
    clipDir: path.join(base, 'sim'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 320, height: 180, fps: 10 } },
  });
  const bench: RecordingBench = {
    base,
    sim,
    start: (seed) =>
      startRecordingServer({
        base,
        database,
        secretKey,
        tokenKey,
        seed: seed ? { hostOf: (i) => silent.host(1 + i) } : null,
      }),
    async close() {
      const left = killLeftovers(base);
      await sim.stop();
      await block.release();
      await silent.release();
      await database.drop();
      rmSync(base, { recursive: true, force: true });
      return left;
    },
  };
  return bench;
}
