import type { CameraPointView, FieldError, ImportReport, ImportRowError, Page } from '../api/contract.ts';
import { performance } from 'node:perf_hooks';
import { actorOf, type AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import { newHolderId } from '../cluster/lease.ts';
import { sealReadability } from '../crypto/credentials.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Store } from '../db/store.ts';
import type { EventBus } from '../events.ts';
import { toWgs84 } from '../geo/coords.ts';
import { HttpError, badRequest, conflict, forbidden, notFound } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { NetworkRepo } from './networks.ts';
import {
  ImportAbandonedError,
  type CameraFields,
  type CameraFilter,
  type CameraPoint,
  type CameraRepo,
} from './repo.ts';
import { decodeCursor, encodeCursor, type CameraCreate, type CameraPatch, type CameraQuery } from './schema.ts';

export interface CameraServiceDeps {
  /** For the transactions that keep a check and the write it guards together (the repository's own store). */
  store: Store;
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

/** Work in slices of at most `ms` of event-loop time, yielding between them (issue 12: imports must not stall). */
function timeSlicer(ms = 15): () => Promise<void> {
  let start = performance.now();
  return async () => {
    if (performance.now() - start < ms) return;
    await new Promise<void>((r) => setImmediate(r));
    start = performance.now();
  };
}

/**
 * An import whose writer has not renewed its heartbeat (one per chunk, every ~15 ms while it writes) for this
 * long is taken for abandoned and removed. Instances' clocks must agree to well within it (as for leases).
 */
export const IMPORT_STALE_MS = 60_000;
/** How often every instance looks for abandoned imports (app.ts). */
export const IMPORT_REAP_MS = 30_000;

const interrupted = () =>
  new HttpError(409, 'import_interrupted', 'the import was interrupted and its rows removed; send the file again');

export function createCameraService(deps: CameraServiceDeps) {
  const { store, cameras, orgs, networks, secrets, audit, events } = deps;
  /** This process, as the writer of its imports (logs; the heartbeat says whether it is alive). */
  const writer = newHolderId();
  const opens = sealReadability(secrets);
  // Only store calls are awaited inside (issue 13): on SQLite nothing else then runs before COMMIT.
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => store.transaction(fn);
  /**
   * Inside such a transaction: a code is one point's county-wide. Looked for under the code's lock, so two
   * instances registering the same code at once cannot both find it free.
   */
  const claimCode = async (code: string | null, exceptId?: number): Promise<void> => {
    if (!code) return;
    await store.lock(`camera.code:${code}`);
    if (await cameras.codeTaken(code, exceptId))
      throw conflict('code: already registered', [{ path: 'code', message: 'already registered' }]);
  };

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
      ...(p.credentialsSealed !== null && !opens(p.credentialsSealed) ? { credentialsUnreadable: true } : {}),
      ptz: p.ptz,
      rtspTransport: p.rtspTransport,
      rtspTransportSeen: p.rtspTransportSeen,
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
        rtspTransport: input.rtspTransport ?? 'auto',
      },
    };
  }

  /** Deletes an import's rows in batches, yielding between them. */
  async function removeImportRows(importId: number): Promise<void> {
    while ((await cameras.deleteImportChunk(importId, 2_000)) > 0) await new Promise<void>((r) => setImmediate(r));
  }

  async function reapImports(all: boolean): Promise<number> {
    const at = new Date().toISOString();
    const taken = await cameras.abandonImports(all ? null : Date.now() - IMPORT_STALE_MS, at);
    for (const id of new Set([...taken, ...(await cameras.failedImportsWithRows())])) await removeImportRows(id);
    return taken.length;
  }

  /**
   * Writes rows under a new import id in short transactions (sized to ~15 ms each), yielding between them.
   * A refused row ends the import: every row already written is deleted again. A duplicate code (someone
   * registered it meanwhile) is reported on its line; anything else is rethrown as the server's failure.
   */
  async function writeImport(
    ctx: AuthContext,
    rows: { line: number; fields: CameraFields }[],
    /** Written in the transaction that marks the import done (its audit entry): both or neither. */
    onDone: () => Promise<void>,
  ): Promise<{ ok: true } | { ok: false; line: number; field: string; message: string }> {
    const importId = await cameras.beginImport(
      rows.length,
      ctx.user.id || null,
      new Date().toISOString(),
      writer,
      Date.now(),
    );
    let size = 100;
    let failure: { line: number; err: unknown } | undefined;
    for (let i = 0; i < rows.length && !failure;) {
      const chunk = rows.slice(i, i + size);
      const loop0 = performance.eventLoopUtilization();
      try {
        await cameras.insertImportChunk(
          importId,
          chunk.map((r) => r.fields),
          Date.now(),
        );
      } catch (err) {
        if (err instanceof ImportAbandonedError) {
          failure = { line: chunk[0]!.line, err };
          break;
        }
        // Which row: again one by one (each alone), up to the one the database refuses.
        for (const r of chunk) {
          try {
            await cameras.insertImportChunk(importId, [r.fields], Date.now());
          } catch (err) {
            failure = { line: r.line, err };
            break;
          }
        }
        failure ??= { line: chunk[0]!.line, err: new Error('a chunk failed that no single row fails') };
        break;
      }
      i += chunk.length;
      // Chunks are sized to ~15 ms of this process's own work, what other requests wait behind: on SQLite the
      // whole write (it runs on the event loop), on PostgreSQL only the sending, not the database's time
      // (sized by the wall clock, a 50,000-row import there was 250 short transactions, each its own commit).
      const busy = performance.eventLoopUtilization(loop0).active;
      size = Math.max(20, Math.min(2_000, Math.round((size * 15) / Math.max(busy, 1))));
      await new Promise<void>((r) => setImmediate(r));
    }
    if (!failure) {
      try {
        await atomically(async () => {
          // Still ours: an instance that took it for abandoned (no heartbeat for IMPORT_STALE_MS) removes its rows.
          if (!(await cameras.finishImport(importId, 'done', new Date().toISOString())))
            throw new ImportAbandonedError(importId);
          await onDone();
        });
        return { ok: true };
      } catch (err) {
        if (!(err instanceof ImportAbandonedError)) throw err;
        failure = { line: rows[0]?.line ?? 0, err };
      }
    }
    // Marked failed first: the rows are then removed whoever finishes the removal (reapImports, if cut short).
    await cameras.finishImport(importId, 'failed', new Date().toISOString());
    await removeImportRows(importId);
    if (failure.err instanceof ImportAbandonedError) throw interrupted();
    const message = String((failure.err as Error)?.message ?? failure.err);
    if (/UNIQUE constraint failed: camera_points\.code|duplicate key.*code/i.test(message)) {
      return { ok: false, line: failure.line, field: 'code', message: 'already registered' };
    }
    throw failure.err;
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

    async search(ctx: AuthContext, q: CameraQuery): Promise<Page<CameraPointView>> {
      const filter = filterOf(ctx, q);
      let after = 0;
      if (q.cursor) {
        const c = decodeCursor(q.cursor);
        if (c === null) throw badRequest([{ path: 'cursor', message: 'not a cursor this server issued' }]);
        after = c;
      }
      // One extra row tells whether another page exists without a COUNT.
      const { rows, total } = await cameras.search(ctx.scope, filter, after, q.limit + 1, q.withTotal ?? false);
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

    async get(ctx: AuthContext, id: number): Promise<CameraPointView> {
      const p = await cameras.byId(ctx.scope, id);
      if (!p) throw notFound('camera point');
      return toView(p);
    },

    async create(ctx: AuthContext, ip: string | null, input: CameraCreate): Promise<CameraPointView> {
      const { fields, problems } = normalize(ctx, input, null);
      if (!fields) throwProblems(problems);
      // The point and its audit entry in one transaction: the database going away between them would leave a
      // change nobody recorded (issue 13).
      const created = await atomically(async () => {
        await claimCode(fields.code);
        const created = await cameras.insert(fields);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.create',
          targetType: 'camera',
          targetId: created.id,
          outcome: 'ok',
          detail: { name: created.name, code: created.code },
        });
        return created;
      });
      events.emit('camera.changed', { kind: 'created', camera: created });
      return toView(created);
    },

    async update(ctx: AuthContext, ip: string | null, id: number, patch: CameraPatch): Promise<CameraPointView> {
      // The read, the checks and the write in one transaction, as one step before (issue 13).
      const updated = await atomically(async () => {
        await store.lock(`camera:${id}`);
        const existing = await cameras.byId(ctx.scope, id);
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
          rtspTransport: patch.rtspTransport ?? existing.rtspTransport,
          ...(patch.credentials !== undefined ? { credentials: patch.credentials } : {}),
        };
        const { fields, problems } = normalize(ctx, merged, existing.credentialsSealed);
        if (!fields) throwProblems(problems);
        if (!patch.position) fields.coordSource = existing.coordSource;
        if (fields.code !== existing.code) await claimCode(fields.code, id);
        const written = await cameras.update(id, existing.version, fields);
        if (!written)
          throw conflict('version: the point was changed by someone else; reload it', [
            { path: 'version', message: 'stale' },
          ]);
        // Another address or transport: what worked for the old one says nothing about the new one.
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.update',
          targetType: 'camera',
          targetId: id,
          outcome: 'ok',
          detail: { fields: Object.keys(patch).filter((k) => k !== 'version') },
        });
        if (
          written.rtspTransportSeen !== null &&
          (written.mainStreamUri !== existing.mainStreamUri ||
            written.subStreamUri !== existing.subStreamUri ||
            written.rtspTransport !== existing.rtspTransport)
        ) {
          await cameras.setTransportSeen(id, null);
          return { ...written, rtspTransportSeen: null };
        }
        return written;
      });
      events.emit('camera.changed', { kind: 'updated', camera: updated });
      return toView(updated);
    },

    async remove(ctx: AuthContext, ip: string | null, id: number, version?: number): Promise<void> {
      const existing = await atomically(async () => {
        await store.lock(`camera:${id}`);
        const found = await cameras.byId(ctx.scope, id);
        if (!found) throw notFound('camera point');
        if (version !== undefined && version !== found.version) {
          throw conflict(`version: the point was changed by someone else (now version ${found.version})`, [
            { path: 'version', message: `stale; current version is ${found.version}` },
          ]);
        }
        await cameras.delete(id);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.delete',
          targetType: 'camera',
          targetId: id,
          outcome: 'ok',
          detail: { name: found.name, code: found.code },
        });
        return found;
      });
      events.emit('camera.changed', { kind: 'deleted', camera: existing });
    },

    /**
     * An import of rows the worker already parsed and checked against the schema (issue 12, item 7): every
     * row is judged first (jurisdiction, references, duplicate codes) and nothing is written unless all
     * pass. The write goes in chunks of one short transaction each, yielding between them, so no other
     * request waits behind a 200,000-row file; every row names its import, and a write that fails (or a
     * restart in the middle, see `recoverImports`) removes all of them again: all or nothing.
     */
    async importParsed(
      ctx: AuthContext,
      ip: string | null,
      file: {
        rows: { line: number; data: CameraCreate }[];
        errors: ImportRowError[];
        columns: Record<string, string>;
        total: number;
        encoding: string;
      },
    ): Promise<ImportReport> {
      const columnOf = (path: string) => file.columns[path] ?? path;
      const errors: ImportRowError[] = [...file.errors];
      const good: { line: number; fields: CameraFields }[] = [];
      const seenCodes = new Map<string, number>();
      const slice = timeSlicer();
      for (const row of file.rows) {
        await slice();
        const { fields, problems } = normalize(ctx, row.data, null);
        for (const p of problems) errors.push({ line: row.line, field: columnOf(p.path), message: p.message });
        if (!fields) continue;
        if (fields.code) {
          const first = seenCodes.get(fields.code);
          if (first !== undefined) {
            errors.push({
              line: row.line,
              field: columnOf('code'),
              message: `duplicate of line ${first} in this file`,
            });
            continue;
          }
          seenCodes.set(fields.code, row.line);
        }
        good.push({ line: row.line, fields });
      }
      const codes = [...seenCodes.keys()];
      const taken = new Set<string>();
      for (let i = 0; i < codes.length; i += 2_000) {
        await slice();
        for (const c of await cameras.existingCodes(codes.slice(i, i + 2_000))) taken.add(c);
      }
      for (const g of good) {
        if (g.fields.code && taken.has(g.fields.code)) {
          errors.push({ line: g.line, field: columnOf('code'), message: 'already registered' });
        }
      }
      errors.sort((a, b) => a.line - b.line);
      const report: ImportReport = {
        ok: errors.length === 0 && file.total > 0,
        rows: file.total,
        created: 0,
        encoding: file.encoding,
        errors,
      };
      if (file.total === 0 && errors.length === 0)
        errors.push({ line: 2, field: 'row', message: 'the file has a header but no data rows' });
      if (!report.ok) {
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.import',
          outcome: 'failed',
          detail: { rows: file.total, errors: errors.length },
        });
        return report;
      }
      const written = await writeImport(ctx, good, () =>
        audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.import',
          outcome: 'ok',
          detail: { rows: file.total, created: good.length, encoding: file.encoding },
        }),
      ).catch(async (err: unknown) => {
        // Given up under its writer: the database is there, so the failure is on record like any other.
        if (err instanceof HttpError && err.code === 'import_interrupted')
          await audit.record({
            actor: actorOf(ctx, ip),
            action: 'camera.import',
            outcome: 'failed',
            detail: { rows: file.total, interrupted: true },
          });
        throw err;
      });
      if (!written.ok) {
        report.ok = false;
        report.errors = [{ line: written.line, field: columnOf(written.field), message: written.message }];
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.import',
          outcome: 'failed',
          detail: { rows: file.total, errors: 1, writeFailedAt: written.line },
        });
        return report;
      }
      report.created = good.length;
      const orgIds = [...new Set(good.map((g) => g.fields.orgUnitId))];
      const perPath = new Map<string, number>();
      for (const g of good) perPath.set(g.fields.orgPath, (perPath.get(g.fields.orgPath) ?? 0) + 1);
      events.emit('camera.imported', {
        created: report.created,
        orgUnitIds: orgIds,
        perPath: [...perPath].map(([path, created]) => ({ path, created })),
      });
      return report;
    },

    /**
     * At start: imports a previous process left half written are removed, all or nothing surviving a crash. On
     * SQLite (one process) every import still being written is; on PostgreSQL another instance may be writing
     * one, so only those whose writer stopped beating (reapImports).
     */
    async recoverImports(): Promise<number> {
      return reapImports(store.dialect === 'sqlite');
    },
    /**
     * Removes imports abandoned by their writer (no heartbeat for IMPORT_STALE_MS: it died, or its clean-up
     * failed with the database away) and what a cut-short clean-up left. Run at start and every
     * IMPORT_REAP_MS on every instance (app.ts); returns how many imports it gave up.
     */
    reapImports: () => reapImports(false),
  };
}

export type CameraService = ReturnType<typeof createCameraService>;
export { HttpError };
