/**
 * /api/v1/walls: wall screens (大屏) and their layouts, the compact point list
 * the wall's map and tree draw from, and kiosk sign-in for unattended screens.
 * HTTP only: the rules, audit and events are the service's (service.ts).
 */
import { Router, type Request } from 'express';
import type { WallScreenView } from '../api/contract.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import { POINT_FEED_MIME } from '../api/point-feed.ts';
import { HttpError, parseOr400 } from '../http/errors.ts';
import {
  createBody,
  idParam,
  kioskBody,
  kioskPostBody,
  layoutBody,
  listQuery,
  pointFilterQuery,
  renameBody,
} from './schema.ts';
import type { WallActor, WallService } from './service.ts';

export { pointFilterQuery } from './schema.ts';

const by = (req: Request): WallActor => ({ ctx: authOf(req), ip: req.ip ?? null });
const idOf = (req: Request): number => parseOr400(idParam, req.params).id;
const badKioskToken = () => new HttpError(401, 'bad_kiosk_token', 'the kiosk token is unknown or revoked');

export function wallRoutes(deps: { auth: AuthService; wall: WallService }): Router {
  const { auth, wall } = deps;
  const r = Router();
  const read = auth.requirePermission('wall.read');
  const write = auth.requirePermission('wall.write');

  r.get('/walls', read, async (req, res) => {
    const q = parseOr400(listQuery, req.query);
    res.json((await wall.list(authOf(req), q.orgUnitId)) satisfies WallScreenView[]);
  });

  r.get('/walls/points', read, async (req, res) => {
    res.type('application/json').send(`{"points":${await wall.pointsJson(authOf(req))}}`);
  });
  // The maps' source (issue 15): the same points as columns of typed arrays, 14 bytes a point, which the
  // browser clusters itself (client/src/map/). Scoped like every point list: a township's feed, and so
  // every cluster and count drawn from it, holds its own points only.
  r.get('/walls/points.bin', read, async (req, res) => {
    const ctx = authOf(req);
    const feed = await wall.pointFeed(ctx, wall.pointFilter(ctx, parseOr400(pointFilterQuery, req.query)));
    res.type(POINT_FEED_MIME).send(Buffer.from(feed.buffer, feed.byteOffset, feed.byteLength));
  });
  // With the registry's filters it is the registry map's source: every point of the selection, not one page (issue 17).
  r.get('/walls/points.geojson', read, async (req, res) => {
    const ctx = authOf(req);
    const filter = wall.pointFilter(ctx, parseOr400(pointFilterQuery, req.query));
    res.type('application/geo+json').send(await wall.pointsGeoJson(ctx, filter));
  });

  r.post('/walls', write, async (req, res) => {
    const view = await wall.create(by(req), parseOr400(createBody, req.body));
    res.status(201).location(`/api/v1/walls/${view.id}`).json(view);
  });

  r.get('/walls/:id', read, async (req, res) => {
    res.json(await wall.get(authOf(req), idOf(req)));
  });

  r.put('/walls/:id/layout', write, async (req, res) => {
    const ctx = authOf(req);
    // The screen first: a missing one is 404 whatever the body.
    const screen = await wall.screen(ctx, idOf(req));
    res.json(await wall.saveLayout(ctx, screen, parseOr400(layoutBody, req.body)));
  });

  r.patch('/walls/:id', write, async (req, res) => {
    const actor = by(req);
    const screen = await wall.screen(actor.ctx, idOf(req));
    res.json(await wall.rename(actor, screen, parseOr400(renameBody, req.body).name));
  });

  r.delete('/walls/:id', write, async (req, res) => {
    await wall.remove(by(req), idOf(req));
    res.status(204).end();
  });

  // ------------------------------------------------------------ kiosk

  r.post('/walls/:id/kiosk-token', write, async (req, res) => {
    res.status(201).json(await wall.issueKioskToken(by(req), idOf(req)));
  });

  r.get('/walls/:id/kiosk-tokens', write, async (req, res) => {
    res.json(await wall.kioskTokens(authOf(req), idOf(req)));
  });

  r.delete('/walls/:id/kiosk-token', write, async (req, res) => {
    await wall.revokeKiosk(by(req), idOf(req));
    res.status(204).end();
  });

  // The URL a kiosk PC opens (chromium --kiosk <url>): signs in and lands on its screen.
  r.get('/walls/kiosk/:token', async (req, res) => {
    const { token } = parseOr400(kioskBody, { token: req.params['token'] });
    const done = await wall.kioskSignIn(token, req.ip ?? null, true, (user, ttlMs) =>
      auth.openSession(req, res, user, ttlMs),
    );
    if (!done) throw badKioskToken();
    res.redirect(303, `/wall/${done.screen.id}?kiosk=1`);
  });

  r.post('/walls/kiosk', async (req, res) => {
    const { token, cookie } = parseOr400(kioskPostBody, req.body);
    const done = await wall.kioskSignIn(token, req.ip ?? null, cookie, (user, ttlMs) =>
      auth.openSession(req, cookie ? res : null, user, ttlMs),
    );
    if (!done) throw badKioskToken();
    res.json({ ...done.login, screenId: done.screen.id });
  });

  return r;
}
