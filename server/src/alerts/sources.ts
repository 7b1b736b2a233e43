/**
 * Where alerts come from, and who may send them: device sources with their
 * keys (issued once, only the hash kept; the ingest door in `device-keys.ts`),
 * points whose ONVIF events become alerts, and the per-topic limit of the
 * MQTT feed.
 */
import { randomBytes } from 'node:crypto';
import type { AlertSourceIssued, AlertSourceView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import type { SharedCounters } from '../cluster/rate-windows.ts';
import type { AppConfig } from '../config/schema.ts';
import { badRequest, notFound, parseOr400 } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { createDeviceGate, hashDeviceKey } from './device-keys.ts';
import type { AlertRepo, AlertSource } from './repo.ts';
import { sourceSchema } from './schema.ts';

export function createAlertSources(deps: {
  repo: AlertRepo;
  orgs: OrgRepo;
  cameras: CameraRepo;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: AppConfig['alerts'];
  counters?: SharedCounters;
}) {
  const { repo, orgs, cameras, audit, clock, config } = deps;
  const devices = createDeviceGate(deps);
  const watchListeners = new Set<() => void>();
  const topicWindows = new Map<string, { start: number; n: number }>();

  return {
    /** POST /alert-sources: the key is in this answer only. */
    async create(ctx: AuthContext, ip: string | null, input: unknown): Promise<AlertSourceIssued> {
      const body = parseOr400(sourceSchema, input);
      const org = orgs.byId(body.orgUnitId);
      if (!org || !inScope(ctx.scope, org.path))
        throw badRequest([{ path: 'orgUnitId', message: 'no such org unit in your jurisdiction' }]);
      const key = randomBytes(24).toString('base64url');
      // The source and its audit entry in one transaction (issue 13: both or neither).
      const s = await repo.writeTransaction(async () => {
        const s = await repo.insertSource({
          name: body.name,
          keyHash: hashDeviceKey(key),
          orgUnitId: org.id,
          orgPath: org.path,
          rateLimitPerMinute: body.rateLimitPerMinute ?? config.defaultRatePerMinute,
          createdBy: ctx.user.id,
        });
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'alert_source.create',
          targetType: 'alert_source',
          targetId: s.id,
          outcome: 'ok',
          detail: { name: s.name, orgUnitId: s.orgUnitId },
        });
        return s;
      });
      return { ...sourceView(s), key };
    },
    async list(ctx: AuthContext): Promise<AlertSourceView[]> {
      return (await repo.sources(ctx.scope)).map(sourceView);
    },
    /** The source a device key belongs to, within its per-minute limit (else 401 or 429). */
    async admit(key: string | undefined, ip: string | null): Promise<AlertSource> {
      const source = await devices.source(key, ip);
      await devices.rateLimit(source);
      return source;
    },
    /** Whether an MQTT topic may deliver one more message this minute (`defaultRatePerMinute`). */
    topicAllows(topic: string): boolean {
      const nowMs = clock.now().getTime();
      let w = topicWindows.get(topic);
      if (!w || nowMs - w.start >= 60_000) {
        w = { start: nowMs, n: 0 };
        topicWindows.set(topic, w);
      }
      if (w.n >= config.defaultRatePerMinute) return false;
      w.n++;
      return true;
    },
    /** PUT/DELETE /cameras/:id/alert-events: whether this point's ONVIF events become alerts. */
    async setEventWatch(ctx: AuthContext, ip: string | null, cameraId: number, on: boolean) {
      const camera = await cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      await repo.writeTransaction(async () => {
        await repo.setEventCamera(camera.id, on);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: on ? 'alert.events.watch' : 'alert.events.unwatch',
          targetType: 'camera',
          targetId: camera.id,
          outcome: 'ok',
        });
      });
      for (const fn of watchListeners) fn();
      return {
        cameraId: camera.id,
        watching: on,
        subscribable: camera.onvifUrl !== null && camera.credentialsSealed !== null,
      };
    },
    /** Called whenever the set of watched points changes. */
    onEventWatchChange(fn: () => void): () => void {
      watchListeners.add(fn);
      return () => void watchListeners.delete(fn);
    },
  };
}

function sourceView(s: AlertSource): AlertSourceView {
  return {
    id: s.id,
    name: s.name,
    orgUnitId: s.orgUnitId,
    rateLimitPerMinute: s.rateLimitPerMinute,
    createdAt: s.createdAt,
  };
}
