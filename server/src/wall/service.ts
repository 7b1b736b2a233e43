/**
 * Wall screens' rules: jurisdiction of screens and of the cameras on their
 * layouts, kiosk accounts and tokens, audit entries and `wall.changed`. No
 * SQL (repo.ts) and no HTTP (routes.ts).
 */
import type { Store } from '../db/store.ts';
import { randomBytes } from 'node:crypto';
import type { LoginResponse, WallKioskTokenIssued, WallLayout, WallScreenView } from '../api/contract.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import { hashToken, type AuthContext, type AuthService, type User, type UserRepo } from '../auth/index.ts';
import type { CameraFilter, CameraRepo } from '../cameras/repo.ts';
import type { EventBus } from '../events.ts';
import { badRequest, conflict, forbidden, notFound } from '../http/errors.ts';
import type { Clock } from '../http/logger.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { encodePointFeed, withStatuses } from '../api/point-feed.ts';
import { createFeedCache } from './feed-cache.ts';
import { camerasOf, emptyLayout } from './layout.ts';
import { screenView, type WallRepo, type WallScreen } from './repo.ts';
import type { CreateWallBody, LayoutBody, PointFilterQuery } from './schema.ts';

/** Rows of the wall's point feed read between two turns of the event loop (~20-60 ms of SQLite each under load). */
const FEED_CHUNK_ROWS = 20_000;
/** Jurisdictions whose feed is kept built (a county and its townships; 2.8 MB at 200,000 points). */
const FEED_CACHE_ENTRIES = 24;

/** Kiosk sessions outlive a duty shift: a screen runs for weeks; revocation ends them at once. */
const KIOSK_SESSION_DAYS = 365;

/** Who did it, for the audit log. */
export interface WallActor {
  ctx: AuthContext;
  ip: string | null;
}

export interface WallServiceDeps {
  auth: AuthService;
  walls: WallRepo;
  cameras: CameraRepo;
  orgs: OrgRepo;
  users: UserRepo;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  /** For the checks that go with their writes in one transaction (a kiosk account per screen). */
  store: Store;
  /** How long a window's own kiosk session lasts (security.sessionTtlHours). */
  sessionTtlMs?: number;
  /**
   * Keep each jurisdiction's point feed built while its points do not change (feed-cache.ts): true where the
   * database keeps the points' version (SQLite). Counted by `onFeed` (served from the cache, or read).
   */
  feedCache?: boolean;
  onFeed?: (cached: boolean) => void;
}

export type WallService = ReturnType<typeof createWallService>;

export function createWallService(deps: WallServiceDeps) {
  const { auth, walls, cameras, orgs, users, audit, bus, clock } = deps;
  const sessionTtlMs = deps.sessionTtlMs ?? 12 * 3600_000;
  /** A change and its audit entry in one transaction (issue 13: both or neither). */
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => deps.store.transaction(fn);
  const actor = ({ ctx, ip }: WallActor) => actorOf(ctx, ip);
  const wholeFeedRows = (path: string) =>
    walls.pointFeedRowsChunked(path, FEED_CHUNK_ROWS, () => new Promise((r) => setImmediate(r)));
  const feeds = deps.feedCache
    ? createFeedCache({
        version: () => walls.feedVersion(),
        build: async (path) => encodePointFeed(await wholeFeedRows(path)),
        fresh: async (path, kept) => withStatuses(kept, await walls.feedStatuses(path)),
        maxEntries: FEED_CACHE_ENTRIES,
      })
    : null;
  const recordOk = (by: WallActor, action: string, targetId: number, detail?: Record<string, unknown>) =>
    audit.record({
      actor: actor(by),
      action,
      targetType: 'wall_screen',
      targetId,
      outcome: 'ok',
      ...(detail ? { detail } : {}),
    });
  const changed = (screen: WallScreen): WallScreenView => {
    const view = screenView(screen);
    bus.emit('wall.changed', { orgPath: screen.orgPath, screen: view });
    return view;
  };

  const screenOr404 = async (ctx: AuthContext, id: number): Promise<WallScreen> => {
    const s = await walls.byId(ctx.scope, id);
    if (!s) throw notFound('wall screen');
    return s;
  };

  /**
   * Every camera of a layout must be in the SCREEN's jurisdiction, not only
   * the caller's: the county must not put another township's cameras on a
   * township's wall (its kiosk would then play them). Each unknown one is named.
   */
  const checkCameras = async (
    ctx: AuthContext,
    screenUnit: { id: number; path: string },
    layout: WallLayout,
    prefix: string,
  ): Promise<void> => {
    const fields = [];
    const screenScope = { orgUnitId: screenUnit.id, path: screenUnit.path };
    for (const [id, path] of camerasOf(layout)) {
      if (await cameras.byId(screenScope, id)) continue;
      const visible = (await cameras.byId(ctx.scope, id)) !== undefined;
      fields.push({
        path: prefix + path.slice('layout'.length),
        message: visible ? `camera ${id} is outside the screen's jurisdiction` : `camera ${id} not found`,
      });
    }
    if (fields.length) throw badRequest(fields);
  };

  return {
    /** Screens of the caller's jurisdiction, or of a lower unit inside it (调阅). */
    async list(ctx: AuthContext, orgUnitId: number | undefined): Promise<WallScreenView[]> {
      let path = ctx.scope.path;
      if (orgUnitId !== undefined) {
        // A higher level looking at a lower level's screens (调阅): only inside its own jurisdiction.
        const unit = orgs.byId(orgUnitId);
        if (!unit || !inScope(ctx.scope, unit.path)) throw notFound('org unit');
        path = unit.path;
      }
      return (await walls.list(path)).map(screenView);
    },

    /** The JSON text of the compact point rows of the caller's jurisdiction. */
    pointsJson(ctx: AuthContext): Promise<string> {
      return walls.pointsJson(ctx.scope.path);
    },

    /** The registry's filters of a points request, checked against the caller's jurisdiction. */
    pointFilter(ctx: AuthContext, q: PointFilterQuery): CameraFilter {
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
    },

    /**
     * The point feed (api/point-feed.ts) of the caller's jurisdiction, or of the registry's filter inside it.
     * The wall's whole jurisdiction (the big one) is read in chunks that let other requests through, and kept
     * built while nothing in it changes (feedCache).
     */
    async pointFeed(ctx: AuthContext, filter: CameraFilter): Promise<Uint8Array> {
      if (Object.keys(filter).length) return encodePointFeed(await walls.pointFeedRowsFiltered(ctx.scope, filter));
      if (!feeds) return encodePointFeed(await wholeFeedRows(ctx.scope.path));
      const { bytes, cached } = await feeds.feed(ctx.scope.path);
      deps.onFeed?.(cached);
      return bytes;
    },

    pointsGeoJson(ctx: AuthContext, filter: CameraFilter): Promise<string> {
      return Object.keys(filter).length
        ? walls.pointsGeoJsonFiltered(ctx.scope, filter)
        : walls.pointsGeoJson(ctx.scope.path);
    },

    async create(by: WallActor, body: CreateWallBody): Promise<WallScreenView> {
      const { ctx } = by;
      const unit = orgs.byId(body.orgUnitId ?? ctx.orgUnit.id);
      if (!unit || !inScope(ctx.scope, unit.path)) {
        throw badRequest([{ path: 'orgUnitId', message: 'org unit is not in your jurisdiction' }]);
      }
      const layout = body.layout ?? emptyLayout();
      if (body.layout) await checkCameras(ctx, unit, layout, 'layout');
      const screen = await atomically(async () => {
        const screen = await walls.insert({ orgUnitId: unit.id, orgPath: unit.path, name: body.name, layout });
        await recordOk(by, 'wall.create', screen.id, { name: screen.name, orgUnitId: unit.id });
        return screen;
      });
      return screenView(screen);
    },

    /** A screen inside the caller's jurisdiction; 404 alike for a missing one and one elsewhere. */
    screen: screenOr404,

    async get(ctx: AuthContext, id: number): Promise<WallScreenView> {
      return screenView(await screenOr404(ctx, id));
    },

    /** Saves a layout on the version the caller read (409 when it was saved meanwhile). */
    async saveLayout(ctx: AuthContext, screen: WallScreen, body: LayoutBody): Promise<WallScreenView> {
      const { id } = screen;
      await checkCameras(ctx, { id: screen.orgUnitId, path: screen.orgPath }, body.layout, 'layout');
      const saved = await walls.saveLayout(id, body.version, body.layout);
      if (!saved) {
        const current = await walls.byId(ctx.scope, id);
        if (!current) throw notFound('wall screen');
        throw conflict(`version: the screen was saved meanwhile (now version ${current.version})`, [
          { path: 'version', message: `stale; the current version is ${current.version}` },
        ]);
      }
      return changed(saved);
    },

    async rename(by: WallActor, screen: WallScreen, name: string): Promise<WallScreenView> {
      const { id } = screen;
      const renamed = await atomically(async () => {
        const renamed = await walls.rename(id, name);
        if (!renamed) throw notFound('wall screen');
        await recordOk(by, 'wall.rename', id, { from: screen.name, name: renamed.name });
        return renamed;
      });
      return changed(renamed);
    },

    async remove(by: WallActor, id: number): Promise<void> {
      const screen = await screenOr404(by.ctx, id);
      // The kiosk account dies with its screen: disabled (its audit rows keep the
      // name) and signed out. Found first: the delete clears its screen column.
      await atomically(async () => {
        const kiosk = await users.byKioskScreen(id);
        await walls.delete(id);
        if (kiosk) {
          await users.update(kiosk.id, { disabled: true });
          await auth.endSessions({ userId: kiosk.id }, 'revoked');
        }
        await recordOk(by, 'wall.delete', id, { name: screen.name });
      });
    },

    // ------------------------------------------------------------ kiosk

    async issueKioskToken(by: WallActor, id: number): Promise<WallKioskTokenIssued> {
      const screen = await screenOr404(by.ctx, id);
      // One viewer account per screen, in the screen's own unit: the kiosk sees
      // what that unit sees, and may only look. Tied to the screen by a column,
      // never found by its name (a name can be taken; ids are never reused).
      // Looked for and created in one transaction: two issues at once make one account.
      let user = await deps.store.transaction(async () => {
        await deps.store.lock(`wall.kiosk:${screen.id}`);
        return (
          (await users.byKioskScreen(screen.id)) ??
          (await users.insertKiosk(screen.id, `大屏 ${screen.name}`, screen.orgUnitId))
        );
      });
      if (user.orgUnitId !== screen.orgUnitId || user.disabled) {
        await auth.endSessions({ userId: user.id }, 'changed');
        user = (await users.update(user.id, { orgUnitId: screen.orgUnitId, disabled: false })) ?? user;
      }
      const token = randomBytes(32).toString('base64url');
      await atomically(async () => {
        await walls.addKioskToken(screen.id, hashToken(token), user.id, by.ctx.user.id);
        await recordOk(by, 'wall.kiosk.issue', screen.id);
      });
      return {
        screenId: screen.id,
        token,
        url: `/api/v1/walls/kiosk/${token}`,
        createdAt: clock.now().toISOString(),
      };
    },

    async kioskTokens(ctx: AuthContext, id: number) {
      await screenOr404(ctx, id);
      return await walls.kioskTokens(id);
    },

    async revokeKiosk(by: WallActor, id: number): Promise<void> {
      await screenOr404(by.ctx, id);
      await atomically(async () => {
        const revoked = await walls.revokeKiosk(id);
        const kiosk = await users.byKioskScreen(id);
        if (kiosk) await auth.endSessions({ userId: kiosk.id }, 'revoked');
        await recordOk(by, 'wall.kiosk.revoke', id, { revoked });
      });
    },

    /**
     * Opens a viewing-only session for the token's screen; undefined when the token is unknown or revoked.
     * `open` opens the session itself (the routes' side: with or without the cookie, as `cookie` says).
     */
    async kioskSignIn(
      token: string,
      ip: string | null,
      cookie: boolean,
      open: (user: User, ttlMs: number) => Promise<{ token: string; expiresAt: Date }>,
    ): Promise<{ screen: WallScreen; login: LoginResponse } | undefined> {
      const kiosk = await walls.kioskToken(hashToken(token));
      const user = kiosk ? await users.byId(kiosk.userId) : undefined;
      const org = user ? orgs.byId(user.orgUnitId) : undefined;
      const screen = kiosk && org ? await walls.byId({ orgUnitId: org.id, path: org.path }, kiosk.screenId) : undefined;
      if (
        !kiosk ||
        !user ||
        !org ||
        !screen ||
        user.disabled ||
        user.kioskScreenId !== screen.id ||
        screen.orgUnitId !== user.orgUnitId
      ) {
        await audit.record({
          actor: { userId: null, username: null, ip },
          action: 'wall.kiosk.login',
          outcome: 'failed',
        });
        return undefined;
      }
      // A window's own session (no cookie) lives as long as a duty session: the window signs in again
      // with its kiosk token when it reloads, and every reload must not leave a year-long session behind.
      const { token: session, expiresAt } = await atomically(async () => {
        const opened = await open(user, cookie ? KIOSK_SESSION_DAYS * 86_400_000 : sessionTtlMs);
        await audit.record({
          actor: { userId: user.id, username: user.username, ip },
          action: 'wall.kiosk.login',
          targetType: 'wall_screen',
          targetId: screen.id,
          outcome: 'ok',
        });
        return opened;
      });
      const login: LoginResponse = {
        user: auth.sessionUser(user, org),
        token: session,
        expiresAt: expiresAt.toISOString(),
      };
      return { screen, login };
    },
  };
}
