import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Router, type Response } from 'express';
import { authOf, type AuthService } from '../auth/index.ts';
import { HttpError, parseOr400, unauthorized } from '../http/errors.ts';
import type { DevicePlayback } from './device.ts';
import type { PlaybackService } from './playback.service.ts';
import { idParam, planBody, playbackBody, rangeQuery, spansQuery } from './schema.ts';
import type { RecordingService } from './service.ts';
import { isDeviceTicket } from './ticket.ts';

async function sendFile(res: Response, file: string, type: string, download?: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new HttpError(404, 'not_found', 'file not found (retention may have removed it)');
  }
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(size));
  if (download) res.setHeader('Content-Disposition', `attachment; filename="${download}"`);
  await new Promise<void>((resolve) => {
    const s = createReadStream(file);
    s.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', resolve);
    s.pipe(res);
  });
}

/** /api/v1/recording: plans, disk state, spans, playback tickets, MP4 downloads, evidence clips. */
export function recordingRoutes(deps: {
  auth: AuthService;
  recording: RecordingService;
  playback: PlaybackService;
  device: DevicePlayback;
}): Router {
  const { auth, recording, playback, device } = deps;
  const r = Router();
  const read = auth.requirePermission('recording.read');
  const manage = auth.requirePermission('recording.manage');
  const exporter = auth.requirePermission('recording.export');
  r.get('/recording/status', manage, (_req, res) => void res.json(recording.status()));
  r.get('/recording/plans', manage, async (req, res) => {
    res.json(await recording.plans(authOf(req)));
  });
  r.put('/recording/plans', manage, async (req, res) => {
    res.json(await recording.putPlan(authOf(req), req.ip ?? null, parseOr400(planBody, req.body)));
  });
  r.delete('/recording/plans/:id', manage, async (req, res) => {
    await recording.deletePlan(authOf(req), req.ip ?? null, parseOr400(idParam, req.params).id);
    res.status(204).end();
  });
  r.get('/recording/cameras/:id/spans', read, async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const q = parseOr400(spansQuery, req.query);
    const ctx = authOf(req);
    // The platform's first: it checks the range and the point's scope before the camera is asked anything.
    const platform = await playback.spans(ctx, id, q.from, q.to);
    const dev = q.device === 'false' ? null : await device.spans(ctx, id, q.from, q.to);
    res.json({
      ...platform,
      spans: platform.spans.map((s) => ({ ...s, source: 'platform' as const })),
      deviceSpans: dev?.spans ?? [],
      device: dev ? { available: dev.available, code: dev.code, message: dev.message } : null,
    });
  });
  r.post('/recording/cameras/:id/playback', read, async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const b = parseOr400(playbackBody, req.body ?? {});
    const ctx = authOf(req);
    if (b.source === 'platform') {
      res.json({ source: 'platform', ...(await playback.openPlayback(ctx, req.ip ?? null, id, b.from, b.to)) });
      return;
    }
    playback.checkPlaybackRange(b.from, b.to);
    res.json(await device.open(ctx, req.ip ?? null, id, b.from, b.speed));
  });
  r.get('/recording/cameras/:id/export.mp4', exporter, async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const { from, to } = parseOr400(rangeQuery, req.query);
    const out = await playback.exportRange(authOf(req), req.ip ?? null, id, from, to);
    try {
      res.setHeader('Cache-Control', 'private, no-store');
      await sendFile(res, out.path, 'video/mp4', out.name);
    } finally {
      await playback.discard(out.path);
    }
  });
  r.get('/recording/alerts/:id/clips', read, async (req, res) => {
    res.json(await playback.clipsOfAlert(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.get('/recording/orders/:id/clips', read, async (req, res) => {
    res.json(await playback.clipsOfOrder(authOf(req), parseOr400(idParam, req.params).id));
  });
  r.get('/recording/clips/:id.mp4', exporter, async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const f = await playback.clipFile(authOf(req), req.ip ?? null, id);
    res.setHeader('Cache-Control', 'private, no-store');
    await sendFile(res, f.path, 'video/mp4', f.name);
  });
  return r;
}

/**
 * /recordings/<ticket>/<file>: a playback's VOD playlist and its segments. As for live (`/streams/`), the
 * ticket names what may be played and the request's own session must be the one it was issued to.
 */
export function recordingFileRoutes(deps: {
  auth: AuthService;
  playback: PlaybackService;
  device: DevicePlayback;
}): Router {
  const { auth, playback, device } = deps;
  const r = Router();
  r.get('/recordings/:token/:file', async (req, res) => {
    const sessionToken = auth.tokenFrom(req);
    const session = sessionToken ? await auth.resolveToken(sessionToken) : undefined;
    const token = String(req.params.token);
    const file = String(req.params.file);
    // A replay from the camera's own storage (Profile G) is a live-like HLS of the relay, not a VOD of segments.
    const f = isDeviceTicket(token)
      ? await device.resolveFile(session, token, file)
      : await playback.resolveFile(session, token, file);
    if (f.kind === 'playlist') {
      res.setHeader('Cache-Control', 'private, no-store');
      res.type('application/vnd.apple.mpegurl').send(f.body);
      return;
    }
    res.setHeader('Cache-Control', 'private, max-age=3600, immutable');
    await sendFile(res, f.path, 'video/mp2t');
  });
  // The player is done with its ticket. A camera's replay ends now (device.close); a platform playback holds
  // nothing to end.
  r.delete('/recordings/:token', async (req, res) => {
    const sessionToken = auth.tokenFrom(req);
    const session = sessionToken ? await auth.resolveToken(sessionToken) : undefined;
    if (!session) throw unauthorized();
    const token = String(req.params.token);
    if (isDeviceTicket(token)) await device.close(session, token);
    res.status(204).end();
  });
  return r;
}
