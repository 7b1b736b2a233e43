/**
 * Where an alert lies and what can see it: the org unit that owns a place
 * (the source camera's, else the smallest boundary holding it, else the
 * nearest village), whether a post's place is inside a jurisdiction, and the
 * cameras linked to it (联动: nearest first, within `linkRadiusMeters`).
 */
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import type { CoordSystem } from '../api/contract.ts';
import type { AppConfig } from '../config/schema.ts';
import type { LonLat } from '../geo/coords.ts';
import { badRequest, forbidden, HttpError } from '../http/errors.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { WHOLE_REGISTRY, inScope, type Scope } from '../org/scope.ts';
import { centroid, pointInGeometry, rankLinkedCameras } from './geometry.ts';
import type { PositionInput } from './schema.ts';

/** Whose jurisdiction a post is checked against, and how a refusal answers. */
export type Refuse = (path: 'cameraId' | 'position', message: string) => HttpError;
export const refuse400: Refuse = (path, message) => badRequest([{ path, message }]);
/** A device key's jurisdiction is its credential's: outside it is forbidden, not malformed. */
export const refuse403: Refuse = (path, message) => forbidden(`${path}: ${message}`, [{ path, message }]);

/** Where a post happened, as the alert will record it. */
export interface AlertPlace {
  camera: CameraPoint | null;
  point: LonLat;
  coordSource: CoordSystem;
  org: OrgUnit;
}

export function createAlertLinkage(deps: {
  orgs: OrgRepo;
  cameras: CameraRepo;
  config: Pick<AppConfig['alerts'], 'linkRadiusMeters' | 'maxLinkedCameras'>;
}) {
  const { orgs, cameras, config } = deps;

  /** From the source camera, else the smallest boundary holding the point, else the nearest village. */
  function orgFor(point: LonLat, camera: CameraPoint | null): OrgUnit {
    if (camera) {
      const u = orgs.byId(camera.orgUnitId);
      if (u) return u;
    }
    const all = orgs.all();
    const depth = (u: OrgUnit) => u.path.split('/').length;
    const holding = all.filter((u) => u.boundary && pointInGeometry(point, u.boundary));
    holding.sort((a, b) => depth(b) - depth(a));
    if (holding[0]) return holding[0];
    let best: { u: OrgUnit; d: number } | null = null;
    for (const u of all) {
      if (u.level !== 'village') continue;
      const c = centroid(u.boundary);
      if (!c) continue;
      const d = (c[0] - point[0]) ** 2 + (c[1] - point[1]) ** 2;
      if (!best || d < best.d) best = { u, d };
    }
    const fallback = best?.u ?? all.find((u) => u.parentId === null);
    if (!fallback) throw new HttpError(503, 'no_org_tree', 'no org units are configured');
    return fallback;
  }

  /** The cameras that can see a point, best first. */
  async function linked(point: LonLat): Promise<number[]> {
    if (config.maxLinkedCameras === 0) return [];
    const dLat = config.linkRadiusMeters / 111_320;
    const dLon = dLat / Math.max(0.01, Math.cos((point[1] * Math.PI) / 180));
    const { rows } = await cameras.search(
      WHOLE_REGISTRY,
      { bbox: [point[0] - dLon, point[1] - dLat, point[0] + dLon, point[1] + dLat] },
      0,
      2000,
    );
    return rankLinkedCameras(point, rows, config.linkRadiusMeters, config.maxLinkedCameras);
  }

  /**
   * Where a post says it happened, inside `scope`: its camera must be in the
   * scope (unknown and elsewhere answer alike), and so must the place of its
   * position. The org unit follows the camera, else the position.
   */
  async function where(
    scope: Scope,
    body: { position?: PositionInput | undefined; cameraId?: number | undefined },
    refuse: Refuse,
  ): Promise<AlertPlace> {
    let camera: CameraPoint | null = null;
    if (body.cameraId !== undefined) {
      camera = (await cameras.byId(scope, body.cameraId)) ?? null;
      if (!camera) throw refuse('cameraId', 'no such camera in this jurisdiction');
    }
    if (body.position) {
      const { point, system } = body.position;
      const place = orgFor(point, null);
      if (!inScope(scope, place.path)) throw refuse('position', 'outside this jurisdiction');
      return { camera, point, coordSource: system, org: camera ? orgFor(point, camera) : place };
    }
    if (!camera) throw badRequest([{ path: 'position', message: 'position or cameraId is required' }]);
    const point: LonLat = [camera.lon, camera.lat];
    return { camera, point, coordSource: 'wgs84', org: orgFor(point, camera) };
  }

  return { orgFor, linked, where };
}

export type AlertLinkage = ReturnType<typeof createAlertLinkage>;
