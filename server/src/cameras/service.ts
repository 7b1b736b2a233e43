import type { CameraPointView, FieldError, ImportReport, ImportRowError, Page } from '../api/contract.ts';
import type { AuditActor, AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { EventBus } from '../events.ts';
import { toWgs84 } from '../geo/coords.ts';
import { HttpError, badRequest, conflict, forbidden, notFound, zodFields } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { NetworkRepo } from './networks.ts';
import type { CameraFields, CameraFilter, CameraPoint, CameraRepo } from './repo.ts';
import {
  cameraCreateSchema,
  decodeCursor,
  encodeCursor,
  type CameraCreate,
  type CameraPatch,
  type CameraQuery,
} from './schema.ts';

export interface CameraServiceDeps {
  cameras: CameraRepo;
  orgs: OrgRepo;
  networks: NetworkRepo;
  secrets: SecretBox;
  audit: AuditLog;
  events: EventBus;
}

/** A field problem; `outOfScope` marks those that are a 403 rather than a 400. */
interface Problem extends FieldError {
  outOfScope?: boolean;
}

export function actorOf(ctx: AuthContext, ip: string | null): AuditActor {
  return { userId: ctx.user.id, username: ctx.user.username, ip };
}

/**
 * Moves `user:pass@` out of a stream URI: ledgers often carry
 * `rtsp://admin:12345@10.1.2.3/...`, and a password must never be stored or
 * returned in clear as part of a URI.
 */
export function splitUserinfo(uri: string | null | undefined): {
  uri: string | null;
  credentials: { username: string; password: string } | null;
} {
  if (!uri) return { uri: null, credentials: null };
  const u = new URL(uri);
  if (!u.username && !u.password) return { uri, credentials: null };
  const credentials = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { uri: u.toString(), credentials };
}

export function createCameraService(deps: CameraServiceDeps) {
  const { cameras, orgs, networks, secrets, audit, events } = deps;

  function toView(p: CameraPoint): CameraPointView {
    return {
      id: p.id,
      code: p.code,
      name: p.name,
      networkId: p.networkId,
      orgUnitId: p.orgUnitId,
      orgUnitName: orgs.byId(p.orgUnitId)?.name ?? '',
      position: { lon: p.lon, lat: p.lat },
      coordSource: p.coordSource,
      address: p.address,
      direction: p.direction,
      fov: p.fov,
      onvifUrl: p.onvifUrl,
      mainStreamUri: p.mainStreamUri,
      subStreamUri: p.subStreamUri,
      hasCredentials: p.credentialsSealed !== null,
      ptz: p.ptz,
      status: p.status,
      statusReason: p.statusReason,
      lastSeenAt: p.lastSeenAt,
      lastCheckedAt: p.lastCheckedAt,
      device:
        p.manufacturer || p.model || p.serial || p.mac
          ? { manufacturer: p.manufacturer, model: p.model, serial: p.serial, mac: p.mac }
          : null,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
      version: p.version,
    };
  }

  /**
   * Turns validated input into stored fields: checks references and
   * jurisdiction, converts the position to WGS-84, seals credentials.
   * `keepSealed` is the stored credential blob kept when input says nothing.
   */
  function normalize(
    ctx: AuthContext,
    input: CameraCreate,
    keepSealed: string | null,
  ): { fields?: CameraFields; problems: Problem[] } {
    const problems: Problem[] = [];
    if (!networks.has(input.networkId))
      problems.push({ path: 'networkId', message: `unknown network "${input.networkId}"` });
    const org = orgs.byId(input.orgUnitId);
    // Unknown and out-of-scope org units get the same answer: existence outside
    // the caller's jurisdiction is not disclosed.
    if (!org || !inScope(ctx.scope, org.path)) {
      problems.push({ path: 'orgUnitId', message: 'org unit is not in your jurisdiction', outOfScope: true });
    }
    // 7 decimals is ~1 cm: finer digits from a conversion are noise.
    const [lon, lat] = toWgs84(input.position.system, input.position.lon, input.position.lat).map(
      (v) => Math.round(v * 1e7) / 1e7,
    ) as [number, number];
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) {
      problems.push({ path: 'position', message: 'position is out of range after conversion to WGS-84' });
    }
    const main = splitUserinfo(input.mainStreamUri);
    const sub = splitUserinfo(input.subStreamUri);
    const onvif = splitUserinfo(input.onvifUrl);
    let sealed = keepSealed;
    if (input.credentials === null) sealed = null;
    else if (input.credentials) sealed = secrets.seal(JSON.stringify(input.credentials));
    else {
      const fromUri = main.credentials ?? sub.credentials ?? onvif.credentials;
      if (fromUri) sealed = secrets.seal(JSON.stringify(fromUri));
    }
    if (problems.length || !org) return { problems };
    return {
      problems,
      fields: {
        code: input.code ?? null,
        name: input.name,
        networkId: input.networkId,
        orgUnitId: org.id,
        orgPath: org.path,
        lon,
        lat,
        coordSource: input.position.system,
        address: input.address ?? null,
        direction: input.direction ?? null,
        fov: input.fov ?? null,
        onvifUrl: onvif.uri,
        mainStreamUri: main.uri,
        subStreamUri: sub.uri,
        credentialsSealed: sealed,
        ptz: input.ptz ?? false,
      },
    };
  }

  function throwProblems(problems: Problem[]): never {
    const scoped = problems.filter((p) => p.outOfScope);
    if (scoped.length)
      throw forbidden(
        scoped.map((p) => `${p.path}: ${p.message}`).join('; '),
        scoped.map(({ path, message }) => ({ path, message })),
      );
    throw badRequest(problems.map(({ path, message }) => ({ path, message })));
  }

  function filterOf(ctx: AuthContext, q: CameraQuery): CameraFilter {
    const f: CameraFilter = {};
    if (q.q) f.q = q.q;
    if (q.org !== undefined) {
      const org = orgs.byId(q.org);
      if (!org || !inScope(ctx.scope, org.path)) {
        throw forbidden('org: org unit is not in your jurisdiction', [
          { path: 'org', message: 'org unit is not in your jurisdiction' },
        ]);
      }
      f.orgPath = org.path;
    }
    if (q.network) {
      if (!networks.has(q.network)) throw badRequest([{ path: 'network', message: `unknown network "${q.network}"` }]);
      f.networkId = q.network;
    }
    if (q.status) f.status = q.status;
    if (q.ptz !== undefined) f.ptz = q.ptz;
    if (q.bbox) f.bbox = q.bbox;
    return f;
  }

  return {
    toView,
    filterOf,

    search(ctx: AuthContext, q: CameraQuery): Page<CameraPointView> {
      const filter = filterOf(ctx, q);
      let after = 0;
      if (q.cursor) {
        const c = decodeCursor(q.cursor);
        if (c === null) throw badRequest([{ path: 'cursor', message: 'not a cursor this server issued' }]);
        after = c;
      }
      // One extra row tells whether another page exists without a COUNT.
      const { rows, total } = cameras.search(ctx.scope, filter, after, q.limit + 1, q.withTotal ?? false);
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      const page: Page<CameraPointView> = {
        items: items.map(toView),
        nextCursor: more && last ? encodeCursor(last.id) : null,
      };
      if (total !== undefined) page.total = total;
      return page;
    },

    get(ctx: AuthContext, id: number): CameraPointView {
      const p = cameras.byId(ctx.scope, id);
      if (!p) throw notFound('camera point');
      return toView(p);
    },

    create(ctx: AuthContext, ip: string | null, input: CameraCreate): CameraPointView {
      const { fields, problems } = normalize(ctx, input, null);
      if (!fields) throwProblems(problems);
      if (fields.code && cameras.codeTaken(fields.code)) {
        throw conflict('code: already registered', [{ path: 'code', message: 'already registered' }]);
      }
      const created = cameras.insert(fields);
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.create',
        targetType: 'camera',
        targetId: created.id,
        outcome: 'ok',
        detail: { name: created.name, code: created.code },
      });
      events.emit('camera.changed', { kind: 'created', camera: created });
      return toView(created);
    },

    update(ctx: AuthContext, ip: string | null, id: number, patch: CameraPatch): CameraPointView {
      const existing = cameras.byId(ctx.scope, id);
      if (!existing) throw notFound('camera point');
      if (patch.version !== undefined && patch.version !== existing.version) {
        throw conflict(`version: the point was changed by someone else (now version ${existing.version})`, [
          { path: 'version', message: `stale; current version is ${existing.version}` },
        ]);
      }
      const merged: CameraCreate = {
        code: patch.code !== undefined ? patch.code : existing.code,
        name: patch.name ?? existing.name,
        networkId: patch.networkId ?? existing.networkId,
        orgUnitId: patch.orgUnitId ?? existing.orgUnitId,
        position: patch.position ?? { lon: existing.lon, lat: existing.lat, system: 'wgs84' },
        address: patch.address !== undefined ? patch.address : existing.address,
        direction: patch.direction !== undefined ? patch.direction : existing.direction,
        fov: patch.fov !== undefined ? patch.fov : existing.fov,
        onvifUrl: patch.onvifUrl !== undefined ? patch.onvifUrl : existing.onvifUrl,
        mainStreamUri: patch.mainStreamUri !== undefined ? patch.mainStreamUri : existing.mainStreamUri,
        subStreamUri: patch.subStreamUri !== undefined ? patch.subStreamUri : existing.subStreamUri,
        ptz: patch.ptz ?? existing.ptz,
        ...(patch.credentials !== undefined ? { credentials: patch.credentials } : {}),
      };
      const { fields, problems } = normalize(ctx, merged, existing.credentialsSealed);
      if (!fields) throwProblems(problems);
      if (!patch.position) fields.coordSource = existing.coordSource;
      if (fields.code && fields.code !== existing.code && cameras.codeTaken(fields.code, id)) {
        throw conflict('code: already registered', [{ path: 'code', message: 'already registered' }]);
      }
      const updated = cameras.update(id, existing.version, fields);
      if (!updated)
        throw conflict('version: the point was changed by someone else; reload it', [
          { path: 'version', message: 'stale' },
        ]);
      const changed = Object.keys(patch).filter((k) => k !== 'version');
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.update',
        targetType: 'camera',
        targetId: id,
        outcome: 'ok',
        detail: { fields: changed },
      });
      events.emit('camera.changed', { kind: 'updated', camera: updated });
      return toView(updated);
    },

    remove(ctx: AuthContext, ip: string | null, id: number, version?: number): void {
      const existing = cameras.byId(ctx.scope, id);
      if (!existing) throw notFound('camera point');
      if (version !== undefined && version !== existing.version) {
        throw conflict(`version: the point was changed by someone else (now version ${existing.version})`, [
          { path: 'version', message: `stale; current version is ${existing.version}` },
        ]);
      }
      cameras.delete(id);
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.delete',
        targetType: 'camera',
        targetId: id,
        outcome: 'ok',
        detail: { name: existing.name, code: existing.code },
      });
      events.emit('camera.changed', { kind: 'deleted', camera: existing });
    },

    /** Validates every row first; writes all rows in one transaction or none. */
    importRows(
      ctx: AuthContext,
      ip: string | null,
      rows: { line: number; input: unknown; columnOf: (path: string) => string }[],
      earlier: ImportRowError[],
      totalRows: number,
      encoding: string,
    ): ImportReport {
      const errors: ImportRowError[] = [...earlier];
      const good: { line: number; fields: CameraFields; codeColumn: string }[] = [];
      const seenCodes = new Map<string, number>();
      for (const row of rows) {
        const parsed = cameraCreateSchema.safeParse(row.input);
        if (!parsed.success) {
          for (const f of zodFields(parsed.error))
            errors.push({
              line: row.line,
              field: row.columnOf(f.path),
              message: f.message,
              ...(f.code ? { code: f.code } : {}),
              ...(f.params ? { params: f.params } : {}),
            });
          continue;
        }
        const { fields, problems } = normalize(ctx, parsed.data, null);
        for (const p of problems) errors.push({ line: row.line, field: row.columnOf(p.path), message: p.message });
        if (!fields) continue;
        if (fields.code) {
          const first = seenCodes.get(fields.code);
          if (first !== undefined) {
            errors.push({
              line: row.line,
              field: row.columnOf('code'),
              message: `duplicate of line ${first} in this file`,
            });
            continue;
          }
          seenCodes.set(fields.code, row.line);
        }
        good.push({ line: row.line, fields, codeColumn: row.columnOf('code') });
      }
      const taken = cameras.existingCodes([...seenCodes.keys()]);
      for (const g of good) {
        if (g.fields.code && taken.has(g.fields.code)) {
          errors.push({ line: g.line, field: g.codeColumn, message: 'already registered' });
        }
      }
      errors.sort((a, b) => a.line - b.line);
      const report: ImportReport = {
        ok: errors.length === 0 && totalRows > 0,
        rows: totalRows,
        created: 0,
        encoding,
        errors,
      };
      if (totalRows === 0 && errors.length === 0)
        errors.push({ line: 2, field: 'row', message: 'the file has a header but no data rows' });
      if (!report.ok) {
        audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.import',
          outcome: 'failed',
          detail: { rows: totalRows, errors: errors.length },
        });
        return report;
      }
      report.created = cameras.insertMany(good.map((g) => g.fields));
      const orgIds = [...new Set(good.map((g) => g.fields.orgUnitId))];
      audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.import',
        outcome: 'ok',
        detail: { rows: totalRows, created: report.created, encoding },
      });
      const perPath = new Map<string, number>();
      for (const g of good) perPath.set(g.fields.orgPath, (perPath.get(g.fields.orgPath) ?? 0) + 1);
      events.emit('camera.imported', {
        created: report.created,
        orgUnitIds: orgIds,
        perPath: [...perPath].map(([path, created]) => ({ path, created })),
      });
      return report;
    },
  };
}

export type CameraService = ReturnType<typeof createCameraService>;
export { HttpError };
