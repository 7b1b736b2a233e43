import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AlertSourceKind, OnlineRateReport } from '../api/contract.ts';
import type { RelayEngine } from '../relay/engine.ts';

/**
 * What an operator of the platform watches, as Prometheus series (issue 13).
 *
 * One registry per app instance, never prom-client's global one: tests run
 * several servers in one process, and each must count only itself.
 */
export interface Metrics {
  readonly registry: Registry;
  /** This process, as the `instance` label of per-instance series (host:pid). */
  readonly instance: string;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly alertsIngested: Counter<'source' | 'result'>;
  /** Walls' point feeds served: from the kept feed (cache) or read from the database (read). */
  readonly pointFeeds: Counter<'source'>;
  readonly alertPushes: Counter<'event'>;
  readonly relayRestarts: Counter;
  readonly healthSweepSeconds: Histogram;
  /** Requests answered 503 because the database could not be reached. */
  readonly storageUnavailable: Counter;
  /** Socket.IO sockets on this instance (read when scraped) and the alert pushes written to them. */
  watchSocketServer(io: SocketServerView): void;
  /** The online rate by network, read when scraped (one grouped count over the registry). */
  watchOnlineRate(report: () => Promise<OnlineRateReport>): void;
  /** The database's connections (pool), read when scraped. */
  watchStore(store: {
    readonly dialect: string;
    connections(): { total: number; idle: number; waiting: number };
  }): void;
  /** Relays by state and ffmpeg restarts, from the media plane's state events. */
  watchRelays(engine: Pick<RelayEngine, 'onState'>): () => void;
}

/** What the metrics read of the Socket.IO server (structural: the realtime layer's typed server fits). */
export interface SocketServerView {
  of(namespace: '/'): { sockets: { size: number } };
  on(event: 'connection', listener: (socket: { onAnyOutgoing(fn: (event: string) => void): unknown }) => void): unknown;
}

export interface MetricsOptions {
  /** The `instance` label; host:pid by default. */
  instance?: string;
  /** Process metrics (CPU, memory, event-loop lag, GC); off in tests that start many servers. */
  processMetrics?: boolean;
}

const PREFIX = 'ccc_';

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const instance = opts.instance ?? `${hostname()}:${process.pid}`;
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'HTTP requests by method, route pattern (never the raw path) and status',
    labelNames: ['method', 'route', 'status'] as const,
    // From a cached API answer to a CSV export or a slow camera behind a snapshot.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const alertsIngested = new Counter({
    name: `${PREFIX}alerts_ingested_total`,
    help: 'Alerts raised on this instance by source kind; result new (stored as a new alert) or folded (storm folding)',
    labelNames: ['source', 'result'] as const,
    registers: [registry],
  });
  const alertPushes = new Counter({
    name: `${PREFIX}alert_pushes_total`,
    help: 'alert:new / alert:updated events written to sockets connected to this instance (one per receiving socket)',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const pointFeeds = new Counter({
    name: `${PREFIX}point_feeds_total`,
    help: "Walls' point feeds served by this instance: from the kept feed (cache) or read from the database (read)",
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const relayRestarts = new Counter({
    name: `${PREFIX}relay_ffmpeg_restarts_total`,
    help: 'ffmpeg restarts of live relays on this instance (the supervisor retrying after a failure or stale output)',
    registers: [registry],
  });
  const healthSweepSeconds = new Histogram({
    name: `${PREFIX}health_sweep_duration_seconds`,
    help: 'Duration of a whole health sweep (在线率 check of every point)',
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [registry],
  });

  let sockets: SocketServerView | null = null;
  new Gauge({
    name: `${PREFIX}socketio_connected_sockets`,
    help: 'Socket.IO sockets connected to this instance',
    labelNames: ['instance'] as const,
    registers: [registry],
    collect() {
      if (sockets) this.set({ instance }, sockets.of('/').sockets.size);
    },
  });

  let onlineRate: (() => Promise<OnlineRateReport>) | null = null;
  const pointsByStatus = new Gauge({
    name: `${PREFIX}camera_points`,
    help: 'Camera points by network and health status (the whole registry; every instance reads the same database)',
    labelNames: ['network', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: `${PREFIX}camera_online_ratio`,
    help: 'Online rate (在线率) by network: online points / all points, 0-1; absent for a network without points',
    labelNames: ['network'] as const,
    registers: [registry],
    async collect() {
      if (!onlineRate) return;
      // A network removed since the last scrape must not keep its old value.
      this.reset();
      pointsByStatus.reset();
      let report: OnlineRateReport;
      try {
        report = await onlineRate();
      } catch {
        // The database away: the rest of the page is what an operator needs now (these series stay absent).
        return;
      }
      for (const row of report.byNetwork) {
        if (row.rate !== null) this.set({ network: row.key }, row.rate);
        for (const status of ['online', 'degraded', 'offline', 'unknown'] as const)
          pointsByStatus.set({ network: row.key, status }, row[status]);
      }
    },
  });

  const storageUnavailable = new Counter({
    name: `${PREFIX}storage_unavailable_total`,
    help: 'Requests answered 503 because the database could not be reached',
    registers: [registry],
  });
  let store: Parameters<Metrics['watchStore']>[0] | null = null;
  new Gauge({
    name: `${PREFIX}db_connections`,
    help: "This instance's database connections: open (total), idle, and requests waiting for one (waiting)",
    labelNames: ['engine', 'state'] as const,
    registers: [registry],
    collect() {
      if (!store) return;
      const c = store.connections();
      for (const state of ['total', 'idle', 'waiting'] as const) this.set({ engine: store.dialect, state }, c[state]);
    },
  });

  const relayStates = new Map<string, { state: string; restarts: number }>();
  new Gauge({
    name: `${PREFIX}relays`,
    help: 'Live relays (RTSP -> HLS/fMP4 ffmpeg) on this instance by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { starting: 0, live: 0, reconnecting: 0, error: 0 };
      for (const { state } of relayStates.values()) counts[state] = (counts[state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });

  return {
    registry,
    instance,
    httpDuration,
    alertsIngested,
    pointFeeds,
    alertPushes,
    relayRestarts,
    healthSweepSeconds,
    storageUnavailable,
    watchStore(s) {
      store = s;
    },
    watchSocketServer(io) {
      sockets = io;
      // Broadcasts notify each receiving socket's outgoing listeners (socket.io-adapter), those relayed
      // from another instance through Redis included: a count of what reached this instance's sockets.
      io.on('connection', (socket) =>
        socket.onAnyOutgoing((event) => {
          if (event === 'alert:new' || event === 'alert:updated') alertPushes.inc({ event });
        }),
      );
    },
    watchOnlineRate(report) {
      onlineRate = report;
    },
    watchRelays(engine) {
      return engine.onState((key, s) => {
        const was = relayStates.get(key);
        // The supervisor's count only grows while a stream lives; a stream started anew counts from 0.
        if (was && s.restarts > was.restarts) relayRestarts.inc(s.restarts - was.restarts);
        if (s.state === 'stopped') relayStates.delete(key);
        else relayStates.set(key, { state: s.state, restarts: s.restarts });
      });
    },
  };
}

/** Counts one alert the alert service stored (new) or folded into an open one. */
export function countAlert(metrics: Metrics, source: AlertSourceKind, folded: boolean): void {
  metrics.alertsIngested.inc({ source, result: folded ? 'folded' : 'new' });
}
