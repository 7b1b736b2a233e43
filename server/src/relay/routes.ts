import { open, type FileHandle } from 'node:fs/promises';
import { Router } from 'express';
import { z } from 'zod';
import { authOf, type AuthService } from '../auth/index.ts';
import { HttpError, parseOr400 } from '../http/errors.ts';
import { plainText } from '../cameras/schema.ts';
import type { CameraControl } from './control.ts';
import type { RelayService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
const instant = (label: string) =>
  z
    .string()
    .max(40)
    .refine((s) => !Number.isNaN(Date.parse(s)), `${label} must be a date and time (ISO 8601)`)
    .transform((s) => new Date(s).toISOString());
export const viewQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'not a cursor this server issued')
      .optional(),
    camera: z.coerce.number().int().positive().optional(),
    user: z.string().min(1).max(64).optional(),
    from: instant('from').optional(),
    to: instant('to').optional(),
  })
  .strict();
export const streamBody = z
  .object({
    quality: z.enum(['main', 'sub']).default('sub'),
    /**
     * 'running': answer once the relay runs, not after its first HLS segment (the live socket waits for the
     * first keyframe itself, issue 15). Default 'playlist'.
     */
    wait: z.enum(['playlist', 'running']).default('playlist'),
  })
  .strict();
const unit = (label: string) =>
  z.number().min(-1, `${label} must be between -1 and 1`).max(1, `${label} must be between -1 and 1`);
export const ptzBody = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('move'),
      pan: unit('pan'),
      tilt: unit('tilt'),
      zoom: unit('zoom'),
      timeoutSec: z.number().int().min(1).max(60).optional(),
    })
    .strict(),
  z.object({ action: z.literal('stop') }).strict(),
  z.object({ action: z.literal('goto'), preset: z.string().regex(/^[\w.:-]{1,64}$/, 'a preset token') }).strict(),
  z.object({ action: z.literal('focus'), speed: unit('speed') }).strict(),
  z.object({ action: z.literal('iris'), step: z.union([z.literal(1), z.literal(-1)]) }).strict(),
]);
export const presetBody = z.object({ name: plainText(32) }).strict();
const presetParam = z
  .object({
    id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    token: z.string().regex(/^[\w.:-]{1,64}$/, 'a preset token'),
  })
  .strict();

/** /api/v1 routes: tickets, snapshots, PTZ. */
export function relayApiRoutes(deps: { auth: AuthService; relay: RelayService; control: CameraControl }): Router {
  const { auth, relay, control } = deps;
  const r = Router();
  r.post('/cameras/:id/stream', auth.requirePermission('camera.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const { quality, wait } = parseOr400(streamBody, req.body ?? {});
    res.json(await relay.open(authOf(req), req.ip ?? null, id, quality, wait));
  });
  r.get('/cameras/:id/snapshot.jpg', auth.requirePermission('camera.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const jpeg = await relay.snapshot(authOf(req), req.ip ?? null, id);
    res.setHeader('Cache-Control', 'private, no-store');
    res.type('image/jpeg').send(jpeg);
  });
  r.get('/cameras/:id/ptz/presets', auth.requirePermission('camera.control'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await control.presets(authOf(req), id));
  });
  // Presets are set and removed on the dome itself (ONVIF SetPreset / RemovePreset), audited like moves.
  r.post('/cameras/:id/ptz/presets', auth.requirePermission('camera.control'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const { name } = parseOr400(presetBody, req.body);
    res.status(201).json(await control.setPreset(authOf(req), req.ip ?? null, id, name));
  });
  r.delete('/cameras/:id/ptz/presets/:token', auth.requirePermission('camera.control'), async (req, res) => {
    const { id, token } = parseOr400(presetParam, req.params);
    await control.removePreset(authOf(req), req.ip ?? null, id, token);
    res.status(204).end();
  });
  r.post('/cameras/:id/ptz', auth.requirePermission('camera.control'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    await control.ptz(authOf(req), req.ip ?? null, id, parseOr400(ptzBody, req.body));
    res.status(204).end();
  });
  r.get('/streams', auth.requirePermission('camera.read'), async (req, res) => {
    res.json(await relay.list(authOf(req)));
  });
  r.get('/audit/view-sessions', auth.requirePermission('audit.read'), async (req, res) => {
    const q = parseOr400(viewQuery, req.query);
    const ctx = authOf(req);
    const items = await relay.viewSessions({
      limit: q.limit + 1,
      // The root unit's admins see every view; anyone else views of their own cameras only.
      path: ctx.orgUnit.parentId === null ? null : ctx.scope.path,
      ...(q.cursor ? { beforeId: Number(q.cursor) } : {}),
      ...(q.camera ? { cameraId: q.camera } : {}),
      ...(q.user ? { username: q.user } : {}),
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
    });
    const page = items.slice(0, q.limit);
    res.json({ items: page, nextCursor: items.length > q.limit ? String(page[page.length - 1]!.id) : null });
  });
  return r;
}

/**
 * /streams/<token>/<file>: HLS playlists and segments. The token in the path
 * names what may be watched (hls.js inherits it for every segment); the
 * request's own session (the cookie a same-origin player sends, or a bearer
 * token) must be the one the ticket was issued to, resolved again on every
 * request. The file name is matched against a strict pattern, so no request
 * can leave the stream directory.
 */
export function streamFileRoutes(deps: { auth: AuthService; relay: RelayService }): Router {
  const { auth, relay } = deps;
  const r = Router();
  r.get('/streams/:token/:file', async (req, res) => {
    const sessionToken = auth.tokenFrom(req);
    const session = sessionToken ? await auth.resolveToken(sessionToken) : undefined;
    const { path, kind } = await relay.resolveFile(session, String(req.params.token), String(req.params.file));
    // Opened before anything is said: a file that rotates out or a run directory removed by a restart between a
    // stat and a read cut the answer off mid-way ("other side closed" in a player); an open handle reads whole.
    let handle: FileHandle;
    let size: number;
    try {
      handle = await open(path, 'r');
    } catch {
      throw new HttpError(404, 'not_found', 'segment not found (it may have rotated out)');
    }
    try {
      size = (await handle.stat()).size;
    } catch (e) {
      await handle.close();
      throw e;
    }
    res.setHeader('Content-Type', kind === 'playlist' ? 'application/vnd.apple.mpegurl' : 'video/mp2t');
    // Playlists change every segment; segments never change once listed.
    res.setHeader('Cache-Control', kind === 'playlist' ? 'no-cache, no-store' : 'private, max-age=60, immutable');
    res.setHeader('Content-Length', String(size));
    const stream = handle.createReadStream({ end: Math.max(0, size - 1), autoClose: true });
    // A player that goes away mid-answer: the read ends and the handle closes now, not at garbage collection.
    res.on('close', () => stream.destroy());
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  return r;
}
