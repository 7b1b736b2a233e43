import { existsSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiErrorBody } from './api/contract.ts';
import {
  alertRoutes,
  createAlertList,
  ingestBodyParser,
  createAlertRepo,
  createAlertService,
  createMqttAlertSource,
  type AlertMedia,
  createOnvifEventSource,
} from './alerts/index.ts';
import { createAuditLog } from './audit/index.ts';
import { auditRoutes } from './audit/routes.ts';
import { createAuthService, createSessionRepo, createUserRepo, type AuthContext } from './auth/index.ts';
import { authRoutes } from './auth/routes.ts';
import { BUILTIN_NETWORKS, createNetworkRepo } from './cameras/networks.ts';
import { createCameraRepo } from './cameras/repo.ts';
import { cameraRoutes } from './cameras/routes.ts';
import { networkRoutes } from './cameras/network-routes.ts';
import { IMPORT_REAP_MS, createCameraService } from './cameras/service.ts';
import type { AppConfig } from './config/schema.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import { LATEST_SCHEMA_VERSION, migrate } from './db/migrations.ts';
import type { SqlDb } from './db/sqlite.ts';
import { createEventBus } from './events.ts';
import { HttpError, codedField } from './http/errors.ts';
import { codeOfMessage } from './api/messages.ts';
import type { Clock, Logger } from './http/logger.ts';
import { openApiDocument } from './http/openapi.ts';
import { alertOpenApi } from './alerts/openapi.ts';
import { auditOpenApi } from './audit/openapi.ts';
import { authOpenApi } from './auth/openapi.ts';
import { cameraOpenApi } from './cameras/openapi.ts';
import { discoveryOpenApi } from './discovery/openapi.ts';
import { dispatchOpenApi } from './dispatch/openapi.ts';
import { healthOpenApi } from './health/openapi.ts';
import { ingestOpenApi } from './ingest/openapi.ts';
import { mapOpenApi } from './map/openapi.ts';
import { orgOpenApi } from './org/openapi.ts';
import { qualityOpenApi } from './quality/openapi.ts';
import { recordingOpenApi } from './recording/openapi.ts';
import { relayOpenApi } from './relay/openapi.ts';
import { reportOpenApi } from './reports/openapi.ts';
import { searchOpenApi } from './search/openapi.ts';
import { wallOpenApiPaths } from './wall/openapi.ts';
import { refuseInvalidUtf8 } from './http/text.ts';
import { mapRoutes } from './map/index.ts';
import { createSearchRepo, createSearchService, searchRoutes } from './search/index.ts';
import { createOrgRepo } from './org/repo.ts';
import { WHOLE_REGISTRY } from './org/scope.ts';
import { orgRoutes } from './org/routes.ts';
import { StorageUnavailableError, sqliteStore, type Store } from './db/store.ts';
import { migratePostgres } from './db/postgres-schema.ts';
import { createClusterLease, createLeaseRepo, createSharedCounters, LEASES, newHolderId } from './cluster/index.ts';
import { createDispatchRepo, createDispatchService, dispatchRoutes, ORDER_UPLOAD_PATH } from './dispatch/index.ts';
import { createDiscoveryRepo } from './discovery/repo.ts';
import { discoveryRoutes } from './discovery/routes.ts';
import { createDiscoveryService } from './discovery/service.ts';
import { healthRoutes } from './health/routes.ts';
import { createIngestService, ingestRoutes, startRtmpIngest, type RtmpIngest } from './ingest/index.ts';
import { createHealthService } from './health/service.ts';
import { attachRealtime, connectRedisFanout } from './realtime/index.ts';
import { createCameraControl } from './relay/control.ts';
import type { RelayEngine } from './relay/engine.ts';
import { attachLiveSocket, type LiveSocketOptions, type LiveSocketServer } from './relay/live-socket.ts';
import { relayApiRoutes, streamFileRoutes } from './relay/routes.ts';
import { createRelayService } from './relay/service.ts';
import { randomBytes } from 'node:crypto';
import { createWallRepo, createWallService, wallRoutes } from './wall/index.ts';
import { countAlert, createMetrics, httpMetrics, metricsRoutes, type Metrics } from './metrics/index.ts';
import { requestIdOf, requestLog } from './http/request-log.ts';
import { alertFacts } from './alerts/index.ts';
import { createQualityRepo, createQualityService, qualityRoutes, type PictureProbe } from './quality/index.ts';
import { createReportService, reportRoutes } from './reports/index.ts';
import {
  createDevicePlayback,
  createPlaybackService,
  createRecordingRepo,
  createRecordingService,
  recordingFileRoutes,
  recordingRoutes,
  type RecordingEngine,
} from './recording/index.ts';

/** Everything with a side effect, built by the entry file (or a test). */
export interface AppDeps {
  config: AppConfig;
  /**
   * The embedded database (SQLite): its migrations run on it, and the store is made over it when `store` is
   * absent. Absent on PostgreSQL, where `store` is the pool (db/postgres.ts) and migrations run through it.
   */
  db?: SqlDb | undefined;
  /** The asynchronous storage surface; one per connection (made over `db` when absent). */
  store?: Store;
  clock: Clock;
  secrets: SecretBox;
  log: Logger;
  /** Directory of the built client; the app serves it at `/` when present. */
  clientDir?: string;
  /** The media plane; without one, asking for live video answers 503. */
  relayEngine?: RelayEngine | null;
  /** Signs stream tokens; derived from the secret key by main.ts. Random when absent. */
  tokenKey?: Buffer;
  /** Checks a stream address before it may reach ffmpeg. */
  validateStreamUrl?: (url: string) => { ok: true; url: string } | { ok: false; reason: string };
  /** First-start setup, run before the port opens: ready means ready (issue 12). */
  beforeListen?: (app: App) => Promise<void>;
  /** Picture diagnosis (视频质量诊断) through the media plane; without one, sweeps answer 503. */
  pictureProbe?: PictureProbe | null;
  /** The recorder (录像, issue 14); without one, recording is off and playback answers 503. */
  recordingEngine?: RecordingEngine | null;
  /** The live socket's tuning (issue 15; tests use a small cap to see back-pressure). */
  liveSocket?: Pick<LiveSocketOptions, 'maxQueueBytes' | 'recheckMs'>;
  /** The Prometheus registry and its series (issue 13); one per app, made here when absent. */
  metrics?: Metrics;
}

/** Stands in when no media plane is configured: every start fails with a clear reason. */
const noRelay: RelayEngine = {
  acquire: () => Promise.reject(new HttpError(503, 'relay_unavailable', 'live video is not configured on this server')),
  probeCodec: () => Promise.resolve('unknown'),
  touch: () => undefined,
  waitForPlaylist: () => Promise.resolve(false),
  status: () => undefined,
  onState: () => () => undefined,
  snapshot: () => Promise.reject(new HttpError(503, 'relay_unavailable', 'live video is not configured')),
  stop: () => Promise.resolve(),
  stopAll: () => Promise.resolve(),
  retryNow: () => false,
  onTransport: () => () => undefined,
  close: () => Promise.resolve(),
};

const MAX_IMPORT_ROWS = 200_000;

function errorBody(code: string, message: string, fields?: ApiErrorBody['error']['fields']): ApiErrorBody {
  // The message as a code the console translates (issue 17), when it is one of SERVER_MESSAGES.
  const coded = codeOfMessage(message);
  const extra = coded ? { messageCode: coded.code, ...(coded.params ? { params: coded.params } : {}) } : {};
  return { error: fields ? { code, message, fields: fields.map(codedField), ...extra } : { code, message, ...extra } };
}

/**
 * A handler that forgot to await a repository (they are moving to async, issue 13) would answer `{}` with
 * 200: TypeScript lets `res.json()` take anything. Such an answer fails loudly here instead (500, logged).
 */
function refusePromiseBodies(_req: Request, res: Response, next: NextFunction): void {
  const json = res.json.bind(res);
  const send = res.send.bind(res);
  const isPromise = (b: unknown) => typeof (b as { then?: unknown } | null)?.then === 'function';
  res.json = (body?: unknown) => {
    if (isPromise(body)) throw new Error('a handler answered with a promise: it must await it');
    return json(body);
  };
  res.send = (body?: unknown) => {
    if (isPromise(body)) throw new Error('a handler answered with a promise: it must await it');
    return send(body);
  };
  next();
}

/** Builds the application from its dependencies. Nothing here opens a port. */
export async function createApp(deps: AppDeps) {
  const { config, clock, secrets, log } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const now = () => clock.now();
  if (!deps.db && !deps.store) throw new Error('createApp: a database (db) or a store is required');
  if (deps.db) migrate(deps.db, now);
  else await migratePostgres(deps.store!, now);
  // Several instances on one database: the periodic passes run where their lease is held (issue 13).
  const holder = newHolderId();
  // The asynchronous store (db/store.ts) over the same connection: one per app (its transactions exclude
  // statements from outside them). Repositories move onto it module by module (db/README.md).
  const store = deps.store ?? sqliteStore(deps.db!);
  const leases = createLeaseRepo(store);
  const lease = (name: string) =>
    createClusterLease({ repo: leases, name, holder, ttlMs: config.cluster.leaseTtlSeconds * 1000, clock, log });
  const duties = {
    dispatch: lease(LEASES.dispatchDeadlines),
    health: lease(LEASES.healthSweeps),
    onvifEvents: lease(LEASES.onvifEvents),
  };
  // Login, alert-ingest and PTZ limits: in Redis (shared) when configured, per instance while it is away.
  const counters = createSharedCounters({ redisUrl: config.redis.url, keyPrefix: config.redis.keyPrefix, clock, log });
  const orgs = createOrgRepo(store, now);
  await orgs.load();
  const networks = createNetworkRepo(store);
  await networks.sync([...BUILTIN_NETWORKS, ...config.extraNetworks.map((n) => ({ ...n, builtin: false }))]);
  const cameras = createCameraRepo(store, now, () =>
    orgs
      .all()
      .filter((u) => u.parentId === null)
      .map((u) => u.path),
  );
  const users = createUserRepo(store, now);
  const sessions = createSessionRepo(store, now);
  const audit = createAuditLog(store, now);
  const bus = createEventBus((err) => log.error('event listener failed', { err: String(err) }));
  const auth = createAuthService({ config, users, sessions, orgs, audit, clock, bus, counters, store });
  const cameraService = createCameraService({ store, cameras, orgs, networks, secrets, audit, events: bus });
  // An import a crash cut short is removed whole (issue 12: imports are written in chunks).
  await cameraService.recoverImports();
  const discovery = createDiscoveryService({
    store,
    repo: createDiscoveryRepo(store, now),
    cameras,
    cameraService,
    secrets,
    audit,
    bus,
    config: config.discovery,
    clock,
    log,
  });
  const ingest = createIngestService({ store, cameras, cameraService, audit, bus, clock, log, config: config.ingest });
  await ingest.init();
  const health = createHealthService({
    cameras,
    orgs,
    networks,
    secrets,
    bus,
    clock,
    log,
    config: config.health,
    onSweep: (r) => metrics.healthSweepSeconds.observe(r.ms / 1000),
    pushState: ingest.pushState,
    lease: duties.health,
  });
  const control = createCameraControl({
    cameras,
    secrets,
    audit,
    clock,
    timeoutMs: 4000,
    ptzPerSecond: config.relay.ptzPerSecond,
    counters,
  });
  const relayEngine = deps.relayEngine ?? noRelay;
  metrics.watchRelays(relayEngine);
  metrics.watchStore(store);
  metrics.watchOnlineRate(() => health.onlineRate(WHOLE_REGISTRY));
  // The system actor alert linkage acts as (PTZ presets): whole county, audited as such.
  const systemCtx = (): AuthContext => {
    const root = orgs.all().find((u) => u.parentId === null);
    if (!root) throw new HttpError(503, 'no_org_tree', 'no org units are configured');
    return {
      user: {
        id: 0,
        username: 'system:alerts',
        displayName: '预警联动',
        passwordHash: '',
        role: 'admin',
        orgUnitId: root.id,
        disabled: false,
        kioskScreenId: null,
        createdAt: '',
      },
      orgUnit: root,
      scope: { orgUnitId: root.id, path: '/' },
      tokenHash: '',
      expiresAt: '9999-12-31T23:59:59.999Z',
    };
  };
  const alertMedia: AlertMedia = {
    // `relay` is built below; alerts call this only after start-up.
    async snapshot(cameraId) {
      const c = await cameras.byId(WHOLE_REGISTRY, cameraId);
      if (!c) throw new Error(`camera ${cameraId} is gone`);
      return relay.capture(c);
    },
    gotoPreset: (cameraId, presetToken) =>
      control.ptz(systemCtx(), null, cameraId, { action: 'goto', preset: presetToken }),
  };
  const walls = createWallRepo(store, now);
  const alertRepo = createAlertRepo(store, now);
  const alerts = createAlertService({
    repo: alertRepo,
    store,
    orgs,
    cameras,
    audit,
    bus,
    clock,
    log,
    config: config.alerts,
    media: alertMedia,
    counters,
    onRaised: (source, folded) => countAlert(metrics, source, folded),
  });
  const alertEvents = createOnvifEventSource({
    repo: alertRepo,
    alerts,
    secrets,
    log,
    config: config.alerts.onvifEvents,
    lease: duties.onvifEvents,
  });
  const alertMqtt = createMqttAlertSource({
    config: config.alerts.mqtt,
    maxBodyBytes: config.alerts.maxBodyBytes,
    alerts,
    log,
  });
  const dispatchRepo = createDispatchRepo(store);
  const dispatch = createDispatchService({
    store,
    repo: dispatchRepo,
    orgs,
    cameras,
    alerts,
    audit,
    bus,
    clock,
    log,
    config: config.dispatch,
    // `relay` is built below; evidence is captured only after start-up.
    capture: (cameraId) => alertMedia.snapshot(cameraId),
    walls,
    lease: duties.dispatch,
  });
  const quality = createQualityService({
    store,
    repo: createQualityRepo(store),
    orgs,
    networks,
    secrets,
    bus,
    audit,
    clock,
    log,
    config: config.quality,
    utcOffsetMinutes: config.dispatch.utcOffsetMinutes,
    probe: deps.pictureProbe ?? null,
    validateUrl: deps.validateStreamUrl ?? ((url) => ({ ok: true, url })),
    // Occlusion and scene change as 四色预警 (blue/yellow by config): ONVIF's tamper is the same event.
    raiseAlert: async ({ camera, kind, level }) => {
      const point = await cameras.byId(WHOLE_REGISTRY, camera.id);
      if (!point) return;
      await alerts.raise({
        type: 'tamper',
        level,
        point: [point.lon, point.lat],
        coordSource: 'wgs84',
        sourceKind: 'health',
        sourceId: `quality:${point.id}`,
        camera: point,
        title: `${point.name} ${kind === 'occlusion' ? '画面遮挡' : '场景变化'}`,
        description:
          kind === 'occlusion' ? 'video quality diagnosis: occlusion' : 'video quality diagnosis: scene change',
        actor: 'system:quality',
      });
    },
  });
  const reports = createReportService({
    orgs,
    quality,
    orderStats: (ctx, q) => dispatch.stats(ctx, q),
    alertFacts: (path, fromIso, toIso) => alertFacts(store, path, fromIso, toIso),
    clock,
    utcOffsetMinutes: config.dispatch.utcOffsetMinutes,
  });
  const tokenKey = deps.tokenKey ?? randomBytes(32);
  const recordingRepo = createRecordingRepo(store);
  const recording = createRecordingService({
    store,
    repo: recordingRepo,
    cameras,
    orgs,
    secrets,
    audit,
    bus,
    clock,
    log,
    config: config.recording,
    utcOffsetMinutes: config.dispatch.utcOffsetMinutes,
    engine: deps.recordingEngine ?? null,
  });
  const playback = createPlaybackService({
    repo: recordingRepo,
    cameras,
    audit,
    clock,
    config: config.recording,
    engine: deps.recordingEngine ?? null,
    tokenKey,
    ticketTtlSec: config.relay.ticketTtlSeconds,
  });
  // Playback from the cameras' own storage (ONVIF Profile G), relayed by the same media plane as live.
  const devicePlayback = createDevicePlayback({
    cameras,
    secrets,
    audit,
    clock,
    log,
    relay: relayEngine,
    tokenKey,
    ticketTtlSec: config.relay.ticketTtlSeconds,
    startTimeoutMs: config.relay.startTimeoutMs,
  });
  const relay = createRelayService({
    store,
    cameras,
    secrets,
    audit,
    bus,
    clock,
    log,
    engine: relayEngine,
    control,
    tokenKey,
    ticketTtlSec: config.relay.ticketTtlSeconds,
    startTimeoutMs: config.relay.startTimeoutMs,
    viewIdleMs: config.relay.idleTimeoutSeconds * 1000,
    keyframeOnStart: config.relay.keyframeOnStart,
    secondKeyframeAfterMs: config.relay.segmentSeconds * 1000,
    validateUrl: deps.validateStreamUrl ?? ((url) => ({ ok: true, url })),
    pushState: ingest.pushState,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.server.trustProxy);
  app.set('query parser', 'simple');
  app.use(requestLog(log));
  app.use(httpMetrics(metrics, ['/api/v1']));
  app.use(refusePromiseBodies);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    // Everything the client needs is served from here; the wall runs on a private network.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; child-src blob:; connect-src 'self' ws: wss:; media-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; base-uri 'self'",
    );
    next();
  });

  const api = express.Router();
  api.use((req, _res, next) => {
    // JSON endpoints take JSON only; the import takes CSV (checked in its route).
    const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (
      (hasBody || chunked) &&
      ['POST', 'PUT', 'PATCH'].includes(req.method) &&
      req.path !== '/cameras/import' &&
      !ORDER_UPLOAD_PATH.test(req.path) &&
      !req.is('application/json')
    ) {
      return next(
        new HttpError(415, 'unsupported_media_type', 'body: Content-Type must be application/json', [
          { path: 'body', message: 'Content-Type must be application/json' },
        ]),
      );
    }
    next();
  });
  // Device alerts have their own, smaller limit on the bytes read (alerts.maxBodyBytes).
  api.post('/alerts/ingest', ingestBodyParser(config.alerts.maxBodyBytes));
  // The limit counts the bytes read (chunked or not, after inflating); invalid UTF-8 is a 400.
  api.use(express.json({ limit: `${config.server.bodyLimitKb}kb`, strict: true, verify: refuseInvalidUtf8 }));
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  api.get('/health/live', (_req, res) => void res.json({ status: 'alive' }));
  api.get('/health/ready', async (_req, res) => {
    try {
      const v = Number((await store.get<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations'))?.v);
      if (v !== LATEST_SCHEMA_VERSION) throw new Error(`schema ${v} != ${LATEST_SCHEMA_VERSION}`);
      res.json({ status: 'ready', checks: { database: 'ok', schema: v } });
    } catch (err) {
      res.status(503).json({ status: 'not_ready', checks: { database: String(err) } });
    }
  });
  // Each module describes its own routes; the document is their sum.
  const openapi = openApiDocument([
    authOpenApi(),
    orgOpenApi(),
    cameraOpenApi(),
    ingestOpenApi(),
    relayOpenApi(),
    healthOpenApi(),
    discoveryOpenApi(),
    alertOpenApi(),
    auditOpenApi(),
    { paths: wallOpenApiPaths() },
    qualityOpenApi(),
    recordingOpenApi(),
    reportOpenApi(),
    mapOpenApi(),
    searchOpenApi(),
    dispatchOpenApi(),
  ]);
  api.get('/openapi.json', (_req, res) => void res.json(openapi));
  api.use(auth.authenticate);
  api.use(authRoutes({ auth, users, orgs, audit, store }));
  api.use(orgRoutes({ auth, orgs, networks, cameras }));
  api.use(networkRoutes({ auth, networks, audit, store, configured: new Set(config.extraNetworks.map((n) => n.id)) }));
  api.use(
    cameraRoutes({
      auth,
      service: cameraService,
      cameras,
      orgs,
      networks,
      audit,
      importLimitBytes: config.server.importLimitMb * 1024 * 1024,
      maxImportRows: MAX_IMPORT_ROWS,
    }),
  );
  api.use(auditRoutes({ auth, audit }));
  api.use(discoveryRoutes({ auth, service: discovery }));
  api.use(healthRoutes({ auth, service: health }));
  api.use(relayApiRoutes({ auth, relay, control }));
  api.use(ingestRoutes({ auth, ingest }));
  api.use(mapRoutes({ auth, config, orgs }));
  api.use(searchRoutes({ auth, search: createSearchService({ repo: createSearchRepo(store), orgs }) }));
  api.use(
    alertRoutes({
      auth,
      alerts,
      list: createAlertList({
        repo: alertRepo,
        orgs,
        audit,
        toView: alerts.toView,
        utcOffsetMinutes: config.dispatch.utcOffsetMinutes,
      }),
      orderOf: async (alertId) => (await dispatchRepo.byAlert(alertId))?.id ?? null,
    }),
  );
  api.use(dispatchRoutes({ auth, dispatch, maxAttachmentBytes: config.dispatch.maxAttachmentBytes }));
  api.use(qualityRoutes({ auth, quality }));
  api.use(recordingRoutes({ auth, recording, playback, device: devicePlayback }));
  api.use(
    reportRoutes({
      auth,
      reports,
      audit,
      pdfFont: config.reports.pdfFont ? { path: config.reports.pdfFont, face: config.reports.pdfFontFace } : null,
    }),
  );
  api.use(
    wallRoutes({
      auth,
      wall: createWallService({
        auth,
        walls,
        cameras,
        orgs,
        users,
        audit,
        bus,
        clock,
        store,
        sessionTtlMs: config.security.sessionTtlHours * 3600_000,
        // SQLite keeps the points' version (migration 21); PostgreSQL reads the feed each time.
        feedCache: Boolean(deps.db),
        onFeed: (cached) => metrics.pointFeeds.inc({ source: cached ? 'cache' : 'read' }),
      }),
    }),
  );
  api.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(metricsRoutes({ metrics, config: config.metrics }));
  app.use('/api/v1', api);
  app.use(streamFileRoutes({ auth, relay }));
  app.use(recordingFileRoutes({ auth, playback, device: devicePlayback }));

  const clientDir = deps.clientDir;
  if (clientDir && existsSync(path.join(clientDir, 'index.html'))) {
    app.use(
      express.static(clientDir, {
        index: false,
        maxAge: '1h',
        setHeaders: (res, file) => {
          // wall-boot.js names the point worker's hashed file: after an upgrade it must name the new one.
          if (file.endsWith('index.html') || file.endsWith('wall-boot.js')) res.setHeader('Cache-Control', 'no-cache');
        },
      }),
    );
    app.get(/^\/(?!api\/|socket\.io\/|streams\/|recordings\/).*/, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  } else {
    app.get('/', (_req, res) => {
      res
        .type('text/plain')
        .send('The client is not built. Run `npm run build:client`, or use `npm start`, which builds it.\n');
    });
  }

  // Error handler last: every failure becomes a JSON body that names the problem.
  let storageWarnedAt = 0;
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      res.status(err.status).json(errorBody(err.code, err.message, err.fields));
      return;
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res
        .status(400)
        .json(errorBody('malformed_json', 'body: malformed JSON', [{ path: 'body', message: 'malformed JSON' }]));
      return;
    }
    if (type === 'entity.too.large') {
      res
        .status(413)
        .json(
          errorBody('too_large', 'body: larger than the limit', [{ path: 'body', message: 'larger than the limit' }]),
        );
      return;
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res
        .status(415)
        .json(
          errorBody('unsupported_media_type', 'body: unsupported encoding', [
            { path: 'body', message: 'unsupported encoding' },
          ]),
        );
      return;
    }
    if (type === 'request.aborted') return;
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json(errorBody('bad_request', (err as Error).message));
      return;
    }
    if (err instanceof StorageUnavailableError) {
      // The database went away (issue 13): nothing was written (the engine rolled the transaction back), the
      // next request tries a new connection. One log line per outage and per 10 s, not one per request.
      const at = Date.now();
      if (at - storageWarnedAt > 10_000) {
        storageWarnedAt = at;
        log.warn('storage unavailable: answering 503', { reason: err.reason, path: req.path });
      }
      metrics.storageUnavailable.inc();
      res.setHeader('Retry-After', '5');
      res
        .status(503)
        .json(errorBody('storage_unavailable', `the database cannot be reached (${err.reason}); try again shortly`));
      return;
    }
    log.error('unhandled error', {
      method: req.method,
      path: req.path,
      requestId: requestIdOf(res),
      err: err instanceof Error ? err.stack : String(err),
    });
    res.status(500).json(errorBody('internal', 'internal error'));
  });

  return {
    app,
    db: deps.db,
    store,
    repos: { orgs, networks, cameras, users, sessions, audit },
    auth,
    cameraService,
    discovery,
    health,
    relay,
    control,
    ingest,
    alerts,
    alertEvents,
    alertMqtt,
    /** The last alert cursor value handed out (the `alerts.seq` counter). */
    alertCursor: () => alertRepo.cursor(),
    dispatch,
    /** This instance's lease holder id, the lease table and its leased duties (issue 13). */
    cluster: { holder, leases, duties, counters },
    walls,
    bus,
    quality,
    reports,
    recording,
    metrics,
  };
}

export type App = Awaited<ReturnType<typeof createApp>>;

export interface RunningServer {
  url: string;
  port: number;
  http: HttpServer;
  app: App;
  /** The RTMP push listener, when `ingest.enabled` and it could listen. */
  ingest: RtmpIngest | null;
  /** The Socket.IO server (tests push realtime events through it). */
  io: ReturnType<typeof attachRealtime>['io'];
  /** The live socket (one WebSocket per page for low-latency tiles, issue 15). */
  live: LiveSocketServer;
  close(): Promise<void>;
}

/** Creates the app, listens, attaches Socket.IO. Port 0 picks a free port (tests). */
export async function startServer(deps: AppDeps): Promise<RunningServer> {
  const app = await createApp(deps);
  const http = createServer(app.app);
  http.headersTimeout = 20_000;
  http.requestTimeout = 120_000;
  const fanout = deps.config.redis.url
    ? await connectRedisFanout({ url: deps.config.redis.url, keyPrefix: deps.config.redis.keyPrefix, log: deps.log })
    : null;
  const realtime = attachRealtime(http, {
    log: deps.log,
    auth: app.auth,
    bus: app.bus,
    cameras: app.cameraService,
    clock: deps.clock,
    recheckMs: deps.config.security.sessionRecheckSeconds * 1000,
    ...(fanout
      ? {
          adapter: fanout.adapter,
          fanout: { onHealth: fanout.onHealth, alertCursor: () => app.alertCursor() },
        }
      : {}),
  });
  app.metrics.watchSocketServer(realtime.io);
  const live = attachLiveSocket(http, {
    auth: app.auth,
    relay: app.relay,
    bus: app.bus,
    log: deps.log,
    ...deps.liveSocket,
  });
  app.health.start();
  app.alertEvents.start();
  app.alertMqtt.start();
  app.dispatch.start();
  app.quality.start();
  await deps.beforeListen?.(app);
  // After the demo's cameras exist: recovery indexes what the last run left, then plans start recorders.
  await app.recording.start();
  let inFlight = 0;
  http.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(deps.config.server.port, deps.config.server.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  let ingest: RtmpIngest | null = null;
  if (deps.config.ingest.enabled) {
    // Like a missing ffmpeg, a taken RTMP port costs the feature, not the whole center.
    try {
      ingest = await startRtmpIngest({
        host: deps.config.ingest.host,
        port: deps.config.ingest.port,
        log: deps.log,
        ...app.ingest.hooks,
      });
      app.ingest.attach(ingest);
    } catch (err) {
      deps.log.error('RTMP ingest disabled: could not listen', {
        host: deps.config.ingest.host,
        port: deps.config.ingest.port,
        err: String(err),
      });
    }
  }
  const host = deps.config.server.host.includes(':') ? `[${deps.config.server.host}]` : deps.config.server.host;
  const sweep = setInterval(
    () =>
      void app.repos.sessions
        .deleteExpired()
        .catch((err: unknown) => deps.log.warn('expired sessions not removed', { err: String(err) })),
    10 * 60_000,
  );
  sweep.unref();
  // Imports whose writer stopped (another instance died mid-import, or its clean-up met the database away).
  const importReap = setInterval(
    () =>
      void app.cameraService
        .reapImports()
        .then((n) => n > 0 && deps.log.warn('abandoned imports removed', { imports: n }))
        .catch((err: unknown) => deps.log.warn('abandoned imports not looked for', { err: String(err) })),
    IMPORT_REAP_MS,
  );
  importReap.unref();
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    http,
    app,
    ingest,
    io: realtime.io,
    live,
    async close() {
      // Shutdown is a state (issue 12): from this moment no stream starts and opens still pending answer 503,
      // whatever the steps below wait for (a health sweep can take seconds to end).
      const relayClosed = app.relay.close();
      clearInterval(sweep);
      clearInterval(importReap);
      app.dispatch.stop();
      app.discovery.stopAll();
      await app.quality.stop();
      await app.recording.stop();
      await app.health.stop();
      // Relays first: they play from the ingest, and would retry against a closing one.
      await relayClosed;
      app.ingest.detach();
      await ingest?.close();
      await app.alertEvents.stop();
      await app.alertMqtt.stop();
      app.alerts.close();
      await app.cluster.counters.close();
      // Stop accepting and drop every connection first: Socket.IO's close waits for the HTTP
      // server to close, which a browser keeping keep-alive connections busy (a wall) can hold
      // open indefinitely. Socket.IO then finds the server already closing and returns.
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Answers already on their way (an open refused with 503 as shutdown began) go out first (issue 12).
      http.closeIdleConnections();
      for (let i = 0; i < 20 && inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
      http.closeAllConnections();
      await live.close();
      await realtime.close();
      await fanout?.close();
      await httpClosed;
    },
  };
}
