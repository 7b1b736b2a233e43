/**
 * /api/v1/walls: wall screens (大屏) and their layouts, the compact point list
 * the wall's map and tree draw from, and kiosk sign-in for unattended screens.
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { LoginResponse, WallKioskTokenIssued, WallScreenView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import { authOf, hashToken, type AuthContext, type AuthService, type UserRepo } from '../auth/index.ts';
import { cameraQuerySchema, plainText } from '../cameras/schema.ts';
import type { CameraFilter, CameraRepo } from '../cameras/repo.ts';
import { POINT_FEED_MIME, encodePointFeed } from '../api/point-feed.ts';
import type { EventBus } from '../events.ts';
import { HttpError, badRequest, conflict, forbidden, notFound, parseOr400 } from '../http/errors.ts';
import type { Clock } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { camerasOf, emptyLayout, wallLayoutSchema } from './layout.ts';
import { screenView, type WallRepo, type WallScreen } from './repo.ts';

/** Rows of the wall's point feed read between two turns of the event loop (~20-60 ms of SQLite each under load). */
const FEED_CHUNK_ROWS = 20_000;

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
/** The registry's filters (GET /cameras), without paging: the registry map draws the whole selection. */
export const pointFilterQuery = cameraQuerySchema
  .pick({ q: true, org: true, status: true, ptz: true })
  .extend({
    network: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{1,31}$/, 'a network id')
      .optional(),
    /** Ignored: a client's own generation counter, so the map's worker fetches again after a change. */
    g: z
      .string()
      .regex(/^\d{1,12}$/, 'a number')
      .optional(),
  })
  .strict();
const listQuery = z
  .object({ orgUnitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() })
  .strict();
const createBody = z
  .object({
    name: plainText(64),
    orgUnitId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    layout: wallLayoutSchema.optional(),
  })
  .strict();
const layoutBody = z
  .object({ version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER), layout: wallLayoutSchema })
  .strict();
const kioskToken = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'not a kiosk token');
const kioskBody = z.object({ token: kioskToken }).strict();
/**
 * POST /walls/kiosk. `cookie: false` opens a session for one browser window
 * only (bearer token in the answer, no cookie): an operator opening a kiosk
 * window on their own PC must not have their own session cookie replaced.
 */
const kioskPostBody = z.object({ token: kioskToken, cookie: z.boolean().default(true) }).strict();
const renameBody = z.object({ name: plainText(64) }).strict();

/** Kiosk sessions outlive a duty shift: a screen runs for weeks; revocation ends them at once. */
const KIOSK_SESSION_DAYS = 365;

export function wallRoutes(deps: {
  auth: AuthService;
  walls: WallRepo;
  cameras: CameraRepo;
  orgs: OrgRepo;
  users: UserRepo;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  /** How long a window's own kiosk session lasts (security.sessionTtlHours). */
  sessionTtlMs?: number;
}): Router {
  const { auth, walls, cameras, orgs, users, audit, bus, clock } = deps;
  const sessionTtlMs = deps.sessionTtlMs ?? 12 * 3600_000;
  const r = Router();
  const actor = (ctx: AuthContext, req: Request) => ({
    userId: ctx.user.id,
    username: ctx.user.username,
    ip: req.ip ?? null,
  });

  const screenOr404 = (ctx: AuthContext, id: number): WallScreen => {
    const s = walls.byId(ctx.scope, id);
    if (!s) throw notFound('wall screen');
    return s;
  };

  /** Every camera of a layout must be a point the caller may see; each unknown one is named. */
  /**
   * Every camera of a layout must be in the SCREEN's jurisdiction, not only
   * the caller's: the county must not put another township's cameras on a
   * township's wall (its kiosk would then play them).
   */
  const checkCameras = (
    ctx: AuthContext,
    screenUnit: { id: number; path: string },
    layout: z.output<typeof wallLayoutSchema>,
    prefix: string,
  ) => {
    const fields = [];
    const screenScope = { orgUnitId: screenUnit.id, path: screenUnit.path };
    for (const [id, path] of camerasOf(layout)) {
      if (cameras.byId(screenScope, id)) continue;
      const visible = cameras.byId(ctx.scope, id) !== undefined;
      fields.push({
        path: prefix + path.slice('layout'.length),
        message: visible ? `camera ${id} is outside the screen's jurisdiction` : `camera ${id} not found`,
      });
    }
    if (fields.length) throw badRequest(fields);
  };

  r.get('/walls', auth.requirePermission('wall.read'), (req, res) => {
    const ctx = authOf(req);
    const q = parseOr400(listQuery, req.query);
    let path = ctx.scope.path;
    if (q.orgUnitId !== undefined) {
      // A higher level looking at a lower level's screens (调阅): only inside its own jurisdiction.
      const unit = orgs.byId(q.orgUnitId);
      if (!unit || !inScope(ctx.scope, unit.path)) throw notFound('org unit');
      path = unit.path;
    }
    res.json(walls.list(path).map(screenView) satisfies WallScreenView[]);
  });

  r.get('/walls/points', auth.requirePermission('wall.read'), (req, res) => {
    res.type('application/json').send(`{"points":${walls.pointsJson(authOf(req).scope.path)}}`);
  });
  /** The registry's filters of a points request, checked against the caller's jurisdiction. */
  const pointFilter = (ctx: AuthContext, query: unknown): CameraFilter => {
    const q = parseOr400(pointFilterQuery, query);
    const filter: CameraFilter = {};
    if (q.q) filter.q = q.q;
    if (q.network) filter.networkId = q.network;
    if (q.status) filter.status = q.status;
    if (q.ptz !== undefined) filter.ptz = q.ptz;
    if (q.org !== undefined) {
      const org = orgs.byId(q.org);
      // The same answer for a unit elsewhere as for one that does not exist (as GET /cameras).
      if (!org || !inScope(ctx.scope, org.path))
        throw forbidden('org: org unit is not in your jurisdiction', [
          { path: 'org', message: 'org unit is not in your jurisdiction' },
        ]);
      filter.orgPath = org.path;
    }
    return filter;
  };
  // The maps' source (issue 15): the same points as columns of typed arrays, 14 bytes a point, which the
  // browser clusters itself (client/src/map/). Scoped like every point list: a township's feed, and so
  // every cluster and count drawn from it, holds its own points only.
  r.get('/walls/points.bin', auth.requirePermission('wall.read'), async (req, res) => {
    const ctx = authOf(req);
    const filter = pointFilter(ctx, req.query);
    // The wall's whole jurisdiction (the big one) is read in chunks that let other requests through.
    const rows = Object.keys(filter).length
      ? walls.pointFeedRowsFiltered(ctx.scope, filter)
      : await walls.pointFeedRowsChunked(ctx.scope.path, FEED_CHUNK_ROWS, () => new Promise((r) => setImmediate(r)));
    const feed = encodePointFeed(rows);
    res.type(POINT_FEED_MIME).send(Buffer.from(feed.buffer, feed.byteOffset, feed.byteLength));
  });
  // With the registry's filters it is the registry map's source: every point of the selection, not one page (issue 17).
  r.get('/walls/points.geojson', auth.requirePermission('wall.read'), (req, res) => {
    const ctx = authOf(req);
    const filter = pointFilter(ctx, req.query);
    res
      .type('application/geo+json')
      .send(
        Object.keys(filter).length
          ? walls.pointsGeoJsonFiltered(ctx.scope, filter)
          : walls.pointsGeoJson(ctx.scope.path),
      );
  });

  r.post('/walls', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const body = parseOr400(createBody, req.body);
    const unit = orgs.byId(body.orgUnitId ?? ctx.orgUnit.id);
    if (!unit || !inScope(ctx.scope, unit.path)) {
      throw badRequest([{ path: 'orgUnitId', message: 'org unit is not in your jurisdiction' }]);
    }
    const layout = body.layout ?? emptyLayout();
    if (body.layout) checkCameras(ctx, unit, layout, 'layout');
    const screen = walls.insert({ orgUnitId: unit.id, orgPath: unit.path, name: body.name, layout });
    audit.record({
      actor: actor(ctx, req),
      action: 'wall.create',
      targetType: 'wall_screen',
      targetId: screen.id,
      outcome: 'ok',
      detail: { name: screen.name, orgUnitId: unit.id },
    });
    res.status(201).location(`/api/v1/walls/${screen.id}`).json(screenView(screen));
  });

  r.get('/walls/:id', auth.requirePermission('wall.read'), (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(screenView(screenOr404(authOf(req), id)));
  });

  r.put('/walls/:id/layout', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    const screen = screenOr404(ctx, id);
    const body = parseOr400(layoutBody, req.body);
    checkCameras(ctx, { id: screen.orgUnitId, path: screen.orgPath }, body.layout, 'layout');
    const saved = walls.saveLayout(id, body.version, body.layout);
    if (!saved) {
      const current = walls.byId(ctx.scope, id);
      if (!current) throw notFound('wall screen');
      throw conflict(`version: the screen was saved meanwhile (now version ${current.version})`, [
        { path: 'version', message: `stale; the current version is ${current.version}` },
      ]);
    }
    const view = screenView(saved);
    bus.emit('wall.changed', { orgPath: saved.orgPath, screen: view });
    res.json(view);
  });

  r.patch('/walls/:id', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    const screen = screenOr404(ctx, id);
    const body = parseOr400(renameBody, req.body);
    const renamed = walls.rename(id, body.name);
    if (!renamed) throw notFound('wall screen');
    audit.record({
      actor: actor(ctx, req),
      action: 'wall.rename',
      targetType: 'wall_screen',
      targetId: id,
      outcome: 'ok',
      detail: { from: screen.name, name: renamed.name },
    });
    const view = screenView(renamed);
    bus.emit('wall.changed', { orgPath: renamed.orgPath, screen: view });
    res.json(view);
  });

  r.delete('/walls/:id', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    const screen = screenOr404(ctx, id);
    // The kiosk account dies with its screen: disabled (its audit rows keep the
    // name) and signed out. Found first: the delete clears its screen column.
    const kiosk = users.byKioskScreen(id);
    walls.delete(id);
    if (kiosk) {
      users.update(kiosk.id, { disabled: true });
      auth.endSessions({ userId: kiosk.id }, 'revoked');
    }
    audit.record({
      actor: actor(ctx, req),
      action: 'wall.delete',
      targetType: 'wall_screen',
      targetId: id,
      outcome: 'ok',
      detail: { name: screen.name },
    });
    res.status(204).end();
  });

  // ------------------------------------------------------------ kiosk

  r.post('/walls/:id/kiosk-token', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    const screen = screenOr404(ctx, id);
    // One viewer account per screen, in the screen's own unit: the kiosk sees
    // what that unit sees, and may only look. Tied to the screen by a column,
    // never found by its name (a name can be taken; ids are never reused).
    let user = users.byKioskScreen(screen.id) ?? users.insertKiosk(screen.id, `大屏 ${screen.name}`, screen.orgUnitId);
    if (user.orgUnitId !== screen.orgUnitId || user.disabled) {
      auth.endSessions({ userId: user.id }, 'changed');
      user = users.update(user.id, { orgUnitId: screen.orgUnitId, disabled: false }) ?? user;
    }
    const token = randomBytes(32).toString('base64url');
    walls.addKioskToken(screen.id, hashToken(token), user.id, ctx.user.id);
    audit.record({
      actor: actor(ctx, req),
      action: 'wall.kiosk.issue',
      targetType: 'wall_screen',
      targetId: screen.id,
      outcome: 'ok',
    });
    const issued: WallKioskTokenIssued = {
      screenId: screen.id,
      token,
      url: `/api/v1/walls/kiosk/${token}`,
      createdAt: clock.now().toISOString(),
    };
    res.status(201).json(issued);
  });

  r.get('/walls/:id/kiosk-tokens', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    screenOr404(ctx, id);
    res.json(walls.kioskTokens(id));
  });

  r.delete('/walls/:id/kiosk-token', auth.requirePermission('wall.write'), (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    screenOr404(ctx, id);
    const revoked = walls.revokeKiosk(id);
    const kiosk = users.byKioskScreen(id);
    if (kiosk) auth.endSessions({ userId: kiosk.id }, 'revoked');
    audit.record({
      actor: actor(ctx, req),
      action: 'wall.kiosk.revoke',
      targetType: 'wall_screen',
      targetId: id,
      outcome: 'ok',
      detail: { revoked },
    });
    res.status(204).end();
  });

  /** Opens a viewing-only session for the token's screen; undefined when the token is unknown or revoked. */
  const kioskSignIn = (token: string, req: Request, res: Response, cookie = true) => {
    const ip = req.ip ?? null;
    const kiosk = walls.kioskToken(hashToken(token));
    const user = kiosk ? users.byId(kiosk.userId) : undefined;
    const org = user ? orgs.byId(user.orgUnitId) : undefined;
    const screen = kiosk && org ? walls.byId({ orgUnitId: org.id, path: org.path }, kiosk.screenId) : undefined;
    if (
      !kiosk ||
      !user ||
      !org ||
      !screen ||
      user.disabled ||
      user.kioskScreenId !== screen.id ||
      screen.orgUnitId !== user.orgUnitId
    ) {
      audit.record({ actor: { userId: null, username: null, ip }, action: 'wall.kiosk.login', outcome: 'failed' });
      return undefined;
    }
    // A window's own session (no cookie) lives as long as a duty session: the window signs in again
    // with its kiosk token when it reloads, and every reload must not leave a year-long session behind.
    const { token: session, expiresAt } = cookie
      ? auth.openSession(req, res, user, KIOSK_SESSION_DAYS * 86_400_000)
      : auth.openSession(req, null, user, sessionTtlMs);
    audit.record({
      actor: { userId: user.id, username: user.username, ip },
      action: 'wall.kiosk.login',
      targetType: 'wall_screen',
      targetId: screen.id,
      outcome: 'ok',
    });
    const login: LoginResponse = {
      user: auth.sessionUser(user, org),
      token: session,
      expiresAt: expiresAt.toISOString(),
    };
    return { screen, login };
  };

  // The URL a kiosk PC opens (chromium --kiosk <url>): signs in and lands on its screen.
  r.get('/walls/kiosk/:token', (req, res) => {
    const { token } = parseOr400(kioskBody, { token: req.params['token'] });
    const done = kioskSignIn(token, req, res);
    if (!done) throw new HttpError(401, 'bad_kiosk_token', 'the kiosk token is unknown or revoked');
    res.redirect(303, `/wall/${done.screen.id}?kiosk=1`);
  });

  r.post('/walls/kiosk', (req, res) => {
    const { token, cookie } = parseOr400(kioskPostBody, req.body);
    const done = kioskSignIn(token, req, res, cookie);
    if (!done) throw new HttpError(401, 'bad_kiosk_token', 'the kiosk token is unknown or revoked');
    res.json({ ...done.login, screenId: done.screen.id });
  });

  return r;
}
