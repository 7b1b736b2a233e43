/** A real server with the real recorder (ffmpeg) on a database file, restartable on the same data (issue 14). */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/load.ts';
import { createSecretBox } from '../../server/src/crypto/secret-box.ts';
import { openSqlite, type SqlDb } from '../../server/src/db/sqlite.ts';
import { DEMO_PASSWORD, seedDemo } from '../../server/src/demo/seed.ts';
import { createLogger } from '../../server/src/http/logger.ts';
import { streamsRecordingEngine } from '../../server/src/recording/index.ts';
import { validateSourceUrl } from '../../streams/src/index.ts';

export interface RecordingServer {
  server: RunningServer;
  db: SqlDb;
  url: string;
  api: string;
  login(username: string): Promise<string>;
  close(): Promise<void>;
}

export async function startRecordingServer(opts: {
  base: string;
  secretKey: Buffer;
  tokenKey: Buffer;
  /** Seed the demo county (first start only). */
  seed: { hostOf: (i: number) => string } | null;
  clientDir?: string;
  segmentSeconds?: number;
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
  const db = openSqlite(path.join(opts.base, 'db.sqlite'));
  const server = await startServer({
    config,
    db,
    clock: { now: () => new Date() },
    secrets: createSecretBox(opts.secretKey),
    log: createLogger('error'),
    tokenKey: opts.tokenKey,
    ...(opts.clientDir ? { clientDir: opts.clientDir } : {}),
    validateStreamUrl: (url) => {
      const r = validateSourceUrl(url);
      return r.ok ? { ok: true, url: r.url } : { ok: false, reason: r.reason };
    },
    recordingEngine: streamsRecordingEngine({
      ffmpegPath: '/usr/bin/ffmpeg',
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
    db,
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
      db.close();
    },
  };
}
