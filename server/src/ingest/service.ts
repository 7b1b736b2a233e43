import type { PublishKeyIssued } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { type CameraService } from '../cameras/service.ts';
import type { AppConfig } from '../config/schema.ts';
import type { Store } from '../db/store.ts';
import type { EventBus } from '../events.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { WHOLE_REGISTRY } from '../org/scope.ts';
import {
  cameraIdOfStream,
  generatePublishKey,
  hashPublishKey,
  localPlayHost,
  publishKeyMatches,
  streamNameOf,
  urlHost,
} from './keys.ts';
import { createIngestKeyRepo } from './repo.ts';
import { isLoopback, type RtmpIngest, type RtmpIngestOptions, type RtmpSessionInfo } from './rtmp-server.ts';

export interface IngestDeps {
  store: Store;
  cameras: CameraRepo;
  cameraService: CameraService;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  config: AppConfig['ingest'];
}

/** Whether a point is fed by a push, and whether a device is pushing now. */
export interface PushState {
  live: boolean;
  reason: string | null;
}

/** Unscoped lookups: the RTMP side acts for no user. */

/** How often a running RTMP server re-reads the publish keys (keys written on another instance). */
const KEY_REFRESH_MS = 5_000;

/**
 * RTMP push ingest (推流接入): publish keys per camera point, the verdicts the
 * RTMP server asks for, and the publish state health and relay read.
 * The RTMP listener itself is started by startServer and attached here.
 */
export function createIngestService(deps: IngestDeps) {
  const { store, cameras, cameraService, audit, bus, clock, log, config } = deps;
  const keys = createIngestKeyRepo(store);
  /** A key's audit entry, written inside the key's own transaction; `live`: a publisher is on the stream now. */
  const recordKey = (
    ctx: AuthContext,
    ip: string | null,
    cameraId: number,
    op: 'create' | 'rotate' | 'revoke',
    live: boolean,
  ) =>
    audit.record({
      actor: actorOf(ctx, ip),
      action: 'ingest.key',
      targetType: 'camera',
      targetId: cameraId,
      outcome: 'ok',
      detail: { op, ...(live ? { disconnected: true } : {}) },
    });
  let media: RtmpIngest | null = null;
  /**
   * Publish key hashes by point, in memory: the RTMP server asks for its verdict synchronously (a veto inside
   * node-media-server's prePublish). Read at start, after each key written here, and every KEY_REFRESH_MS while
   * the RTMP server runs (a key issued or revoked on another instance reaches this one within that).
   */
  let keyHashes = new Map<number, string>();
  const loadKeys = async () => {
    keyHashes = await keys.all();
  };
  let refresh: NodeJS.Timeout | null = null;
  /** A device's publish starting or ending, in the audit log (`ingest.publish`). */
  const recordPublish = (address: string, cameraId: number, detail: Record<string, unknown>) =>
    audit.record({
      actor: deviceActor(address),
      action: 'ingest.publish',
      targetType: 'camera',
      targetId: cameraId,
      outcome: 'ok',
      detail,
    });
  /** Work the RTMP server's synchronous callbacks started (audit entries, point look-ups). */
  const later = (what: string, work: () => Promise<void>) => {
    work().catch((err: unknown) => log.warn(`rtmp ${what} failed`, { err: String(err) }));
  };

  const playUri = (m: RtmpIngest, id: number) =>
    `rtmp://${localPlayHost(m.host)}:${m.port}/${config.app}/${streamNameOf(id)}`;

  const running = (): RtmpIngest => {
    if (!media)
      throw new HttpError(
        503,
        'ingest_unavailable',
        'RTMP ingest is not running on this server (config ingest.enabled)',
      );
    return media;
  };

  const deviceActor = (address: string) => ({ userId: null, username: null, ip: address || null });

  bus.on('camera.changed', (e) => {
    // A deleted point's key went with it (ON DELETE CASCADE); its publisher goes too.
    if (e.kind !== 'deleted') return;
    keyHashes.delete(e.camera.id);
    media?.kick(config.app, streamNameOf(e.camera.id));
  });

  const hooks: Omit<RtmpIngestOptions, 'host' | 'port' | 'log'> = {
    authorizePublish(s) {
      const id = s.app === config.app ? cameraIdOfStream(s.name) : null;
      const key = s.query.key;
      if (id === null) return `no such stream /${s.app}/${s.name}`;
      if (typeof key !== 'string' || key === '') return 'no key given';
      const hash = keyHashes.get(id);
      if (!publishKeyMatches(key, hash)) return hash ? 'wrong key' : 'no publish key issued for this camera';
      return null;
    },
    // Only the platform's relay plays (loopback, or this host's own address when bound to one interface);
    // everyone else watches through /streams with a ticket, scoped and audited.
    authorizePlay: (s) =>
      isLoopback(s.address) || s.address === s.localAddress ? null : 'plays are for the platform relay only',
    onPublishStart(s) {
      const id = cameraIdOfStream(s.name);
      if (id === null) return;
      later('publish start', async () => {
        const camera = await cameras.byId(WHOLE_REGISTRY, id);
        if (!camera) return;
        await recordPublish(s.address, id, { phase: 'start' });
        bus.emit('ingest.publish', { cameraId: id, orgPath: camera.orgPath, live: true, address: s.address });
      });
    },
    onPublishEnd(s, stats) {
      const id = cameraIdOfStream(s.name);
      if (id === null) return;
      later('publish end', async () => {
        await recordPublish(s.address, id, {
          phase: 'end',
          seconds: stats.seconds,
          bytes: stats.bytes,
          codec: stats.videoCodec === 7 ? 'h264' : stats.videoCodec === 12 ? 'h265' : null,
          ...(stats.width ? { width: stats.width, height: stats.height } : {}),
        });
        const camera = await cameras.byId(WHOLE_REGISTRY, id);
        if (camera)
          bus.emit('ingest.publish', { cameraId: id, orgPath: camera.orgPath, live: false, address: s.address });
      });
    },
    onDenied(kind, s: RtmpSessionInfo, reason) {
      const id = cameraIdOfStream(s.name);
      // The key never goes into the audit or the log.
      later('denial audit', () =>
        audit.record({
          actor: deviceActor(s.address),
          action: `ingest.${kind}`,
          ...(id === null ? {} : { targetType: 'camera', targetId: id }),
          outcome: 'denied',
          detail: { reason, stream: `/${s.app}/${s.name}`.slice(0, 200) },
        }),
      );
      log.info(`rtmp ${kind} refused`, { address: s.address, stream: `/${s.app}/${s.name}`.slice(0, 200), reason });
    },
  };

  return {
    hooks,

    /** Reads the publish keys; `createApp` awaits it before the RTMP server can ask. */
    init: loadKeys,
    attach(m: RtmpIngest) {
      media = m;
      refresh ??= setInterval(() => later('key refresh', loadKeys), KEY_REFRESH_MS);
      refresh.unref();
    },
    detach() {
      media = null;
      if (refresh) clearInterval(refresh);
      refresh = null;
    },

    /** Creates or rotates the point's key and points its stream at the ingest. The key is in this answer only. */
    async issueKey(ctx: AuthContext, ip: string | null, cameraId: number): Promise<PublishKeyIssued> {
      const camera = await cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera point');
      const m = running();
      const key = generatePublishKey();
      const uri = playUri(m, cameraId);
      const createdAt = clock.now().toISOString();
      const rotated = await store.transaction(async () => {
        await store.lock(`ingest.key:${cameraId}`);
        if (camera.mainStreamUri !== uri || camera.subStreamUri !== null) {
          await cameraService.update(ctx, ip, cameraId, { mainStreamUri: uri, subStreamUri: null });
        }
        const had = await keys.has(cameraId);
        await keys.put({ cameraId, keyHash: hashPublishKey(key), createdAt, createdBy: ctx.user.id });
        // The audit entry with the key (issue 13: both or neither); the publisher on the old key, if any, is
        // disconnected right after the commit.
        await recordKey(
          ctx,
          ip,
          cameraId,
          had ? 'rotate' : 'create',
          had && m.publishing(config.app, streamNameOf(cameraId)),
        );
        return had;
      });
      // The new key in memory first, then the old session ends: it cannot come back on the old key.
      await loadKeys();
      // A new key ends the session the old one opened: rotating is how a leaked key is shut out.
      if (rotated) m.kick(config.app, streamNameOf(cameraId));
      return {
        cameraId,
        publishUrl: `rtmp://${urlHost(config.publicHost ?? m.host)}:${m.port}/${config.app}/${streamNameOf(cameraId)}`,
        key,
        createdAt,
      };
    },

    /** Deletes the point's key and disconnects its publisher. Works with the RTMP server stopped, too. */
    async revokeKey(ctx: AuthContext, ip: string | null, cameraId: number): Promise<void> {
      const camera = await cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera point');
      await store.transaction(async () => {
        const gone = await keys.remove(cameraId);
        if (!gone) throw notFound('publish key');
        await recordKey(ctx, ip, cameraId, 'revoke', media?.publishing(config.app, streamNameOf(cameraId)) ?? false);
      });
      await loadKeys();
      media?.kick(config.app, streamNameOf(cameraId));
    },

    isPublishing: (cameraId: number) => media?.publishing(config.app, streamNameOf(cameraId)) ?? false,

    /**
     * For a point whose stream address is this ingest's URI for it: whether a
     * device is pushing. null for every other point (probe it as usual).
     */
    pushState(point: { id: number; mainStreamUri: string | null; subStreamUri: string | null }): PushState | null {
      const uri = point.subStreamUri ?? point.mainStreamUri;
      if (!uri?.startsWith('rtmp://')) return null;
      let u: URL;
      try {
        u = new URL(uri);
      } catch {
        return null;
      }
      if (u.pathname !== `/${config.app}/${streamNameOf(point.id)}`) return null;
      if (!media) {
        // Same path on the configured port: a push point while the ingest is off.
        return u.port === String(config.port) ? { live: false, reason: 'RTMP ingest is not running' } : null;
      }
      if (uri !== playUri(media, point.id)) return null;
      const live = media.publishing(config.app, streamNameOf(point.id));
      return { live, reason: live ? null : 'no device is pushing to this point' };
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
