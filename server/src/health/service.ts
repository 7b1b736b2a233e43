import type { CameraStatus, OnlineRateReport, OnlineRateRow } from '../api/contract.ts';
import type { NetworkRepo } from '../cameras/networks.ts';
import type { CameraRepo, HealthTarget } from '../cameras/repo.ts';
import type { ClusterLease } from '../cluster/index.ts';
import type { AppConfig } from '../config/schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { EventBus } from '../events.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { WHOLE_REGISTRY, type Scope } from '../org/scope.ts';
import { createOnvifClient } from '../protocols/onvif/client.ts';
import { rtspProbe } from '../protocols/rtsp-probe.ts';
import { CREDENTIALS_UNREADABLE, openCredentials } from '../crypto/credentials.ts';

export interface CheckResult {
  status: Exclude<CameraStatus, 'unknown'> | 'unknown';
  reason: string | null;
  /** Real video was seen. */
  seen: boolean;
  /** The RTSP transport the video came over. */
  transport?: 'tcp' | 'udp';
}

/**
 * Decides a point's status from what its ONVIF service and its stream did.
 * Video is what counts: a camera whose web service answers but whose stream
 * does not is degraded, never online.
 */
export function judge(
  onvif: { ok: boolean; reason: string | null } | null,
  video: { ok: boolean; stalled: boolean; reason: string | null } | null,
): CheckResult {
  if (video?.ok) {
    if (onvif && !onvif.ok)
      return { status: 'degraded', reason: `video ok, ONVIF not answering: ${onvif.reason}`, seen: true };
    return { status: 'online', reason: null, seen: true };
  }
  if (video?.stalled) return { status: 'degraded', reason: `stream stalled: ${video.reason}`, seen: false };
  if (video) {
    if (onvif?.ok) return { status: 'degraded', reason: `ONVIF answers, stream failed: ${video.reason}`, seen: false };
    return { status: 'offline', reason: video.reason, seen: false };
  }
  if (onvif?.ok) return { status: 'degraded', reason: 'no stream address registered', seen: false };
  if (onvif) return { status: 'offline', reason: onvif.reason, seen: false };
  return { status: 'unknown', reason: 'no ONVIF or stream address registered', seen: false };
}

export interface HealthDeps {
  cameras: CameraRepo;
  orgs: OrgRepo;
  networks: NetworkRepo;
  secrets: SecretBox;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  config: AppConfig['health'];
  /**
   * For a point fed by an RTMP push: whether a device is pushing now (its
   * video state, instead of probing). null for every other point.
   */
  pushState?: (t: HealthTarget) => { live: boolean; reason: string | null } | null;
  /** Several instances on one database: periodic sweeps run on the holder only (issue 13). */
  lease?: ClusterLease;
  /** Told when a sweep ends, scheduled or asked for (the operator's metrics, issue 13). */
  onSweep?: (r: { checked: number; changed: number; ms: number }) => void;
}

export function createHealthService(deps: HealthDeps) {
  const { cameras, orgs, networks, secrets, bus, clock, log, config } = deps;
  const failures = new Map<number, number>();
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<unknown> | null = null;
  let stopped = false;

  async function check(t: HealthTarget): Promise<CheckResult> {
    const opened = openCredentials(secrets, t.credentialsSealed);
    // A password that no longer decrypts is said as such, not probed as an authentication failure (issue 12).
    if (!opened.ok) return { status: 'unknown', reason: CREDENTIALS_UNREADABLE, seen: false };
    const creds = opened.creds;
    const onvifP = t.onvifUrl
      ? createOnvifClient({ xaddr: t.onvifUrl, timeoutMs: config.timeoutMs })
          .getSystemDateAndTime()
          .then(() => ({ ok: true, reason: null }))
          .catch((e: unknown) => ({ ok: false, reason: (e as Error).message.slice(0, 200) }))
      : Promise.resolve(null);
    const uri = t.subStreamUri ?? t.mainStreamUri;
    const push = deps.pushState?.(t) ?? null;
    const videoP = push
      ? Promise.resolve({ ok: push.live, stalled: false, reason: push.reason })
      : uri
        ? rtspProbe(uri, {
            ...(creds ? { username: creds.username, password: creds.password } : {}),
            timeoutMs: config.timeoutMs,
            wantVideo: config.frameCheck,
            // The same way the relay reads it (issue 12: a UDP-only camera was marked offline by a TCP probe).
            transport: t.rtspTransport,
            ...(t.rtspTransportSeen ? { prefer: t.rtspTransportSeen } : {}),
          }).then((r) => ({
            ok: r.ok,
            stalled: !r.ok && (r.stage === 'play' || r.stage === 'frame'),
            reason: r.reason,
            ...(r.transport ? { transport: r.transport } : {}),
          }))
        : Promise.resolve(null);
    const [onvif, video] = await Promise.all([onvifP, videoP]);
    const judged = judge(onvif, video);
    const transport = video && 'transport' in video ? (video.transport as 'tcp' | 'udp') : undefined;
    return transport && judged.seen ? { ...judged, transport } : judged;
  }

  async function record(t: HealthTarget, r: CheckResult, damp = true): Promise<boolean> {
    let { status, reason } = r;
    // Flap damping: one failed check does not take a working point offline.
    if (damp && status === 'offline' && (t.status === 'online' || t.status === 'degraded')) {
      const n = (failures.get(t.id) ?? 0) + 1;
      failures.set(t.id, n);
      if (n < config.failuresBeforeOffline) {
        status = t.status;
        reason = `check failed (${n}/${config.failuresBeforeOffline}): ${r.reason}`;
      }
    } else failures.delete(t.id);
    const at = clock.now().toISOString();
    const saved = await cameras.setStatus(t.id, status, reason, at, r.seen);
    if (saved !== undefined && r.transport && r.transport !== t.rtspTransportSeen)
      await cameras.setTransportSeen(t.id, r.transport);
    if (saved !== undefined && r.seen) bus.emit('camera.seen', { id: t.id });
    if (saved === undefined || saved.prev === status) return false;
    bus.emit('camera.status', {
      id: t.id,
      orgPath: t.orgPath,
      from: saved.prev,
      to: status,
      reason,
      at,
      lastSeenAt: saved.lastSeenAt,
    });
    return true;
  }

  // A push starting or ending is the device's own word: recorded at once, without damping.
  bus.on('ingest.publish', (e) => {
    void (async () => {
      const t = await cameras.byId(WHOLE_REGISTRY, e.cameraId);
      if (!t) return;
      await record(
        t,
        e.live
          ? { status: 'online', reason: null, seen: true }
          : { status: 'offline', reason: 'the device stopped pushing', seen: false },
        false,
      );
    })().catch((err: unknown) => log.warn('health: recording a push failed', { camera: e.cameraId, err: String(err) }));
  });

  /** Checks every point once with bounded concurrency; returns counts. */
  async function sweep(): Promise<{ checked: number; changed: number; ms: number }> {
    const started = Date.now();
    let after = 0;
    let checked = 0;
    let changed = 0;
    for (;;) {
      const batch = await cameras.healthTargets(after, 1000);
      if (!batch.length || stopped) break;
      after = batch[batch.length - 1]!.id;
      let next = 0;
      const worker = async () => {
        while (!stopped) {
          const t = batch[next++];
          if (!t) return;
          try {
            if (await record(t, await check(t))) changed++;
          } catch (err) {
            log.warn('health check failed', { camera: t.id, err: String(err) });
          }
          checked++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, batch.length) }, worker));
    }
    const result = { checked, changed, ms: Date.now() - started };
    deps.onSweep?.(result);
    return result;
  }

  function schedule(delayMs: number) {
    if (stopped || config.intervalSeconds === 0) return;
    timer = setTimeout(() => {
      // Another instance holding the lease sweeps (null here); this one tries again at its next turn.
      const run = deps.lease ? deps.lease.run(sweep) : sweep();
      sweeping = run
        .then((r) => r && log.debug('health sweep', r))
        .catch((err: unknown) => log.error('health sweep failed', { err: String(err) }))
        .finally(() => {
          sweeping = null;
          // Jitter so that many instances or restarts do not check in lockstep.
          schedule(config.intervalSeconds * 1000 * (0.9 + Math.random() * 0.2));
        });
    }, delayMs);
    timer.unref();
  }

  async function onlineRate(scope: Scope): Promise<OnlineRateReport> {
    const row = (key: string, name: string): OnlineRateRow => ({
      key,
      name,
      total: 0,
      online: 0,
      degraded: 0,
      offline: 0,
      unknown: 0,
      rate: null,
    });
    const add = (r: OnlineRateRow, status: CameraStatus, n: number) => {
      r.total += n;
      r[status] += n;
    };
    const overall = row('all', '');
    const byNetwork = new Map(networks.all().map((n) => [n.id, row(n.id, n.name)]));
    const children = orgs.all().filter((u) => u.parentId === scope.orgUnitId);
    const byOrg = new Map(children.map((u) => [u.id, row(String(u.id), u.name)]));
    const childOf = (orgUnitId: number) => {
      const path = orgs.byId(orgUnitId)?.path ?? '';
      const rest = path.slice(scope.path.length).split('/')[0];
      return rest ? Number(rest) : null;
    };
    for (const c of await cameras.statusCounts(scope)) {
      add(overall, c.status, c.n);
      const net = byNetwork.get(c.networkId);
      if (net) add(net, c.status, c.n);
      const child = childOf(c.orgUnitId);
      const o = child === null ? undefined : byOrg.get(child);
      if (o) add(o, c.status, c.n);
    }
    const finish = (r: OnlineRateRow) => ({ ...r, rate: r.total ? r.online / r.total : null });
    return {
      at: clock.now().toISOString(),
      overall: finish(overall),
      byNetwork: [...byNetwork.values()].map(finish),
      byOrg: [...byOrg.values()].map(finish),
    };
  }

  return {
    check,
    sweep,
    onlineRate,
    /** Starts periodic sweeps; the first after a short random delay. */
    start() {
      stopped = false;
      if (config.intervalSeconds > 0) deps.lease?.start();
      schedule(2000 + Math.random() * 3000);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await sweeping;
      await deps.lease?.stop();
    },
  };
}

export type HealthService = ReturnType<typeof createHealthService>;
