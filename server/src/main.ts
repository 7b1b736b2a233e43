/**
 * Entry point: the only place that builds real dependencies.
 *   node server/src/main.ts [--profile demo]
 */
import { createHash, hkdfSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.ts';
import type { startDemoSimulator } from './demo/simulated-county.ts';
import type { StreamsEngine } from './relay/streams-engine.ts';

const root = path.resolve(import.meta.dirname, '../..');
const started = performance.now();

let args;
try {
  args = parseArgs({ options: { profile: { type: 'string' } }, strict: true });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\nusage: node server/src/main.ts [--profile NAME]\n`);
  process.exit(2);
}

let config;
try {
  config = loadConfig({ profile: args.values.profile ?? process.env.CCC_PROFILE ?? null });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

// Configuration is checked before the rest of the platform loads, so a bad key fails at once.
const [
  { startServer },
  { createSecretBox, loadSecretKey },
  { createStreamsEngine, platformFfmpeg },
  { validateSourceUrl },
  { openSqlite },
  { openPostgres },
  { bootstrap },
  { createLogger, systemClock },
  { createPictureProbe },
  { streamsRecordingEngine },
  { createMetrics },
] = await Promise.all([
  import('./app.ts'),
  import('./crypto/secret-box.ts'),
  import('./relay/streams-engine.ts'),
  import('../../streams/src/index.ts'),
  import('./db/sqlite.ts'),
  import('./db/postgres.ts'),
  import('./bootstrap.ts'),
  import('./http/logger.ts'),
  import('./quality/probe.ts'),
  import('./recording/engine.ts'),
  import('./metrics/index.ts'),
]);

const log = createLogger(config.log.level);
const resolveData = (p: string) => (path.isAbsolute(p) ? p : path.resolve(root, p));
// The embedded database (SQLite), or PostgreSQL for several instances on one database (issue 13).
const onPostgres = config.storage.driver === 'postgres';
const db = onPostgres
  ? undefined
  : openSqlite(config.storage.sqlite.path === ':memory:' ? ':memory:' : resolveData(config.storage.sqlite.path));
let pgStore: Awaited<ReturnType<typeof openPostgres>> | undefined;
if (onPostgres) {
  try {
    pgStore = await openPostgres({
      url: config.storage.postgres.url,
      max: config.storage.postgres.poolSize,
      applicationName: 'county-video-command-center',
    });
  } catch (err) {
    // The URL's password never reaches the log.
    const where = config.storage.postgres.url.replace(/\/\/[^@/]*@/, '//');
    process.stderr.write(`PostgreSQL at ${where} cannot be reached: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
const secretKey = loadSecretKey(process.env.CCC_SECRET_KEY, resolveData(config.security.keyFile));
const secrets = createSecretBox(secretKey);
// Stream tokens get their own key, derived so that tokens survive a restart but cannot unseal credentials.
const tokenKey = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'ccc stream tokens v1', 32));

let relayEngine: StreamsEngine | null = null;
try {
  // The relay's root is named by this installation's data, not by the port (issue 12): a restart on another
  // port finds, by their run ids, the ffmpeg a killed predecessor left behind.
  const dbFile = onPostgres
    ? config.storage.postgres.url.replace(/\/\/[^@/]*@/, '//')
    : config.storage.sqlite.path === ':memory:'
      ? `memory-${process.pid}`
      : resolveData(config.storage.sqlite.path);
  const instance = `data-${createHash('sha1').update(dbFile).digest('hex').slice(0, 12)}`;
  relayEngine = createStreamsEngine(config.relay, log, instance);
  // A predecessor killed with -9 leaves ffmpeg running: end those before starting anew.
  const orphans = await relayEngine.cleanupOrphans();
  if (orphans.killed.length) log.warn('killed ffmpeg left by a previous run', { pids: orphans.killed });
} catch (err) {
  log.warn('live video disabled', { reason: String(err) });
}

// 视频质量诊断: short niced ffmpeg samples; thumbnails pass through a private temporary directory.
const diagnosisFfmpeg = platformFfmpeg(config.relay.ffmpegPath);
const pictureProbe = diagnosisFfmpeg
  ? createPictureProbe({
      ffmpegPath: diagnosisFfmpeg,
      tmpDir: path.join(tmpdir(), `ccc-quality-${process.pid}`),
      niceLevel: config.quality.niceLevel,
      // Cameras with a password are sampled through the relay's loopback source proxy (issue 12).
      ...(relayEngine ? { openSource: (s) => relayEngine!.proxy.open(s) } : {}),
    })
  : null;

// 录像 (issue 14): one recorder per recorded point, reading cameras through the relay's source proxy (written in
// process for RTSP points, by a copying ffmpeg for others or with recording.engine 'ffmpeg').
const recordingFfmpeg = config.recording.enabled ? platformFfmpeg(config.relay.ffmpegPath) : null;
let recordingEngine: ReturnType<typeof streamsRecordingEngine> | null = null;
try {
  recordingEngine = recordingFfmpeg
    ? streamsRecordingEngine({
        ffmpegPath: recordingFfmpeg,
        engine: config.recording.engine,
        rootDir: resolveData(config.recording.dir),
        segmentSeconds: config.recording.segmentSeconds,
        ...(relayEngine ? { proxy: relayEngine.proxy } : {}),
        log,
      })
    : null;
} catch (err) {
  log.warn('recording disabled', { reason: String(err) });
}

let seeded: Awaited<ReturnType<typeof bootstrap>> = 'none';
let sim: Awaited<ReturnType<typeof startDemoSimulator>> = null;
const server = await startServer({
  pictureProbe,
  config,
  db,
  ...(pgStore ? { store: pgStore } : {}),
  clock: systemClock,
  secrets,
  log,
  clientDir: path.join(root, 'client/dist'),
  relayEngine,
  recordingEngine,
  tokenKey,
  // Process series (CPU, memory, event-loop lag, GC) only here: tests start many servers in one process.
  metrics: createMetrics({ processMetrics: true }),
  validateStreamUrl: (url) => {
    const r = validateSourceUrl(url);
    return r.ok ? { ok: true, url: r.url } : { ok: false, reason: r.reason };
  },
  // Ready means ready (issue 12): users, the demo county and its cameras exist before the port opens, so a
  // login right after /health/ready answers is never refused.
  beforeListen: async (app) => {
    seeded = await bootstrap(app, config, secrets, log);
    // The demo's live cameras: loaded only in the demo, so production never carries the simulator.
    sim =
      config.demo.enabled && config.demo.simulator
        ? await (
            await import('./demo/simulated-county.ts')
          ).startDemoSimulator({
            store: app.store,
            secrets,
            clipDir: resolveData(config.demo.clipDir),
            log,
            ffmpegPath: platformFfmpeg(config.relay.ffmpegPath),
          })
        : null;
  },
});
// Handlers before the announcement: whoever reads 'running at' may signal at once (CI saw a SIGTERM land
// between the two and end the server with the default action).
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    void Promise.all([server.close(), sim?.stop()])
      .then(async () => {
        db?.close();
        await pgStore?.close();
      })
      .finally(() => process.exit(0));
  });
}
const ms = Math.round(performance.now() - started);
log.info('ready', { url: server.url, startupMs: ms, seeded });
process.stdout.write(`\n  County video command center is running at ${server.url}/  (ready in ${ms} ms)\n\n`);
