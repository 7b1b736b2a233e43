/**
 * Linkage media (migration 7): after a new alert is stored and pushed, a
 * JPEG from its camera (else the first linked one), and each linked PTZ dome
 * turned to its nearest preset place. Never delays the push; failures are
 * logged only. Also where each preset looks (`/cameras/:id/preset-places`)
 * and the stored snapshot (`/alerts/:id/snapshot.jpg`).
 */
import type { PresetPlaceView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import type { AppConfig } from '../config/schema.ts';
import { haversineMeters, type LonLat } from '../geo/coords.ts';
import { conflict, notFound, parseOr400 } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import { WHOLE_REGISTRY } from '../org/scope.ts';
import type { Alert, AlertRepo, PresetPlace } from './repo.ts';
import { presetPlacesSchema } from './schema.ts';

/**
 * What alerts need from the media plane, injected so alerts/ does not depend
 * on relay internals: a JPEG of a camera now (live stream if running, else the
 * ONVIF snapshot URI) and a PTZ preset move by the system actor.
 */
export interface AlertMedia {
  snapshot(cameraId: number): Promise<Buffer>;
  gotoPreset(cameraId: number, presetToken: string): Promise<void>;
}

export function createAlertMediaLinkage(deps: {
  repo: AlertRepo;
  cameras: CameraRepo;
  audit: AuditLog;
  log: Logger;
  config: Pick<AppConfig['alerts'], 'ptzPresetLinkage'>;
  media?: AlertMedia | undefined;
  /** An alert changed here (a snapshot was stored): push it. */
  changed: (a: Alert) => void;
}) {
  const { repo, cameras, audit, log, config } = deps;
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  function track(p: Promise<unknown>) {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  function takeSnapshot(media: AlertMedia, a: Alert, cameraId: number) {
    track(
      media
        .snapshot(cameraId)
        .then(async (jpeg) => {
          if (closed) return;
          await repo.putSnapshot(a.id, cameraId, jpeg);
          const touched = await repo.touch(a.id);
          if (!closed) deps.changed(touched);
        })
        .catch((err: unknown) => {
          if (!closed) log.warn('alert snapshot failed', { alertId: a.id, cameraId, error: String(err) });
        }),
    );
  }

  /** Turns one linked dome to its preset place nearest the alert, if one is near enough. */
  function turnDome(media: AlertMedia, a: Alert, cameraId: number) {
    const ptz = config.ptzPresetLinkage;
    const point: LonLat = [a.lon, a.lat];
    track(
      (async () => {
        let best: { token: string; name: string; d: number } | null = null;
        for (const p of await repo.presetPlaces(cameraId)) {
          const d = haversineMeters(point, [p.lon, p.lat]);
          if (d <= ptz.maxDistanceMeters && (!best || d < best.d)) best = { token: p.token, name: p.name, d };
        }
        if (!best || closed) return;
        const chosen = best;
        await media.gotoPreset(cameraId, chosen.token);
        if (closed) return;
        await repo.addHistory(
          a.id,
          'system:alerts',
          'ptz_preset',
          `camera ${cameraId} → preset ${chosen.token} (${chosen.name}, ${Math.round(chosen.d)} m)`,
        );
      })().catch((err: unknown) => {
        if (!closed) log.warn('alert PTZ preset failed', { alertId: a.id, cameraId, error: String(err) });
      }),
    );
  }

  return {
    /** After a new alert is stored and pushed: its snapshot, and linked PTZ domes turned to the nearest preset place. */
    follow(a: Alert) {
      const media = deps.media;
      if (!media) return;
      const shotFrom = a.cameraId ?? a.linkedCameraIds[0];
      if (shotFrom !== undefined) takeSnapshot(media, a, shotFrom);
      if (!config.ptzPresetLinkage.enabled) return;
      // Which linked points are domes is read in the background too: the answer never waits for it.
      track(
        (async () => {
          for (const id of a.linkedCameraIds) {
            const camera = await cameras.byId(WHOLE_REGISTRY, id);
            if (closed) return;
            if (camera?.ptz) turnDome(media, a, id);
          }
        })().catch((err: unknown) => {
          if (!closed) log.warn('alert PTZ preset failed', { alertId: a.id, error: String(err) });
        }),
      );
    },
    /** GET /alerts/:id/snapshot.jpg: 404 outside the caller's jurisdiction or when none was taken. */
    async snapshot(ctx: AuthContext, id: number): Promise<Buffer> {
      const a = await repo.byId(ctx.scope, id);
      if (!a) throw notFound('alert');
      const jpeg = await repo.snapshot(a.id);
      if (!jpeg) throw notFound('alert snapshot');
      return jpeg;
    },
    /** PUT /cameras/:id/preset-places: where each of a PTZ camera's presets looks. */
    async setPresetPlaces(
      ctx: AuthContext,
      ip: string | null,
      cameraId: number,
      input: unknown,
    ): Promise<PresetPlaceView[]> {
      const camera = await cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      const body = parseOr400(presetPlacesSchema, input);
      if (!camera.ptz) throw conflict('camera: not a PTZ camera', [{ path: 'ptz', message: 'false' }]);
      const places = body.map((p) => ({
        token: p.token,
        name: p.name,
        lon: p.position.point[0],
        lat: p.position.point[1],
      }));
      // The places and their audit entry in one transaction (issue 13: both or neither).
      await repo.writeTransaction(async () => {
        await repo.setPresetPlaces(camera.id, places);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.preset_places',
          targetType: 'camera',
          targetId: camera.id,
          outcome: 'ok',
          detail: { count: places.length },
        });
      });
      return places.map(placeView);
    },
    async presetPlaces(ctx: AuthContext, cameraId: number): Promise<PresetPlaceView[]> {
      const camera = await cameras.byId(ctx.scope, cameraId);
      if (!camera) throw notFound('camera');
      return (await repo.presetPlaces(camera.id)).map(placeView);
    },
    /** Waits for snapshots and PTZ moves in flight (tests, shutdown). */
    async settled(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    /** Work still in flight finishes without writing or logging. */
    close() {
      closed = true;
    },
  };
}

function placeView(p: PresetPlace): PresetPlaceView {
  return { token: p.token, name: p.name, position: { lon: p.lon, lat: p.lat } };
}
