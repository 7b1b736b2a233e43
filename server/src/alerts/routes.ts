import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AlertDetail } from '../api/contract.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import { parseOr400 } from '../http/errors.ts';
import { refuseInvalidUtf8 } from '../http/text.ts';
import type { AlertList } from './list.ts';
import { alertExportQuery, alertSearchQuery } from './schema.ts';
import type { AlertAction, AlertService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
export const alertListQuery = z
  .object({
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

/**
 * The ingest's own JSON parser, mounted ahead of the API's (app.ts) on
 * POST /alerts/ingest: body-parser counts the bytes it actually reads, so the
 * limit holds for a chunked body as much as for a declared Content-Length
 * (issue 11). Over it: 413 `too_large`, naming `body`. UTF-8 is checked as
 * for every other JSON body.
 */
export function ingestBodyParser(maxBodyBytes: number): RequestHandler {
  return express.json({ limit: maxBodyBytes, strict: true, verify: refuseInvalidUtf8 });
}

/** /api/v1 routes: alert sources, device ingestion, manual reports, replay and actions. */
export function alertRoutes(deps: {
  auth: AuthService;
  alerts: AlertService;
  list: AlertList;
  /** The work order made of an alert (派单), if any: dispatch knows, alerts do not. */
  orderOf?: (alertId: number) => Promise<number | null>;
}): Router {
  const { auth, alerts, list } = deps;
  const r = Router();
  r.post('/alert-sources', auth.requirePermission('alert.source.manage'), async (req, res) => {
    res.status(201).json(await alerts.createSource(authOf(req), req.ip ?? null, req.body));
  });
  r.get('/alert-sources', auth.requirePermission('alert.source.manage'), async (req, res) => {
    res.json(await alerts.listSources(authOf(req)));
  });
  // Devices, not users: the key is the credential, so no session is asked for.
  // The body was read by ingestBodyParser, within alerts.maxBodyBytes.
  r.post('/alerts/ingest', async (req, res) => {
    const key = req.get('x-device-key');
    const { alert, folded } = await alerts.ingest(key, req.ip ?? null, req.body);
    res.status(folded ? 200 : 201).json(alert);
  });
  r.post('/alerts', auth.requirePermission('alert.report'), async (req, res) => {
    const { alert, folded } = await alerts.report(authOf(req), req.ip ?? null, req.body);
    res.status(folded ? 200 : 201).json(alert);
  });
  r.get('/alerts', auth.requirePermission('alert.read'), async (req, res) => {
    const q = parseOr400(alertListQuery, req.query);
    res.type('application/json').send(await alerts.listJson(authOf(req), q.since, q.limit));
  });
  // Before /alerts/:id, which would take "search" for an id.
  r.get('/alerts/search', auth.requirePermission('alert.read'), async (req, res) => {
    res.json(await list.search(authOf(req), parseOr400(alertSearchQuery, req.query)));
  });
  r.get('/alerts/export.csv', auth.requirePermission('alert.read'), async (req, res) => {
    const ctx = authOf(req);
    const q = parseOr400(alertExportQuery, req.query);
    // Headers go with the first byte: a refused filter (checked before it) still answers as JSON.
    const write = (chunk: string) => {
      if (!res.headersSent) {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader(
          'Content-Disposition',
          `attachment; filename="alerts-${new Date().toISOString().slice(0, 10)}.csv"`,
        );
      }
      res.write(chunk);
    };
    await list.exportCsv(ctx, req.ip ?? null, q, write, req.query);
    res.end();
  });
  r.get('/alerts/:id', auth.requirePermission('alert.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const alert = await alerts.get(authOf(req), id);
    res.json({ ...alert, orderId: (await deps.orderOf?.(alert.id)) ?? null } satisfies AlertDetail);
  });
  r.put('/cameras/:id/alert-events', auth.requirePermission('alert.source.manage'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await alerts.setEventWatch(authOf(req), req.ip ?? null, id, true));
  });
  r.delete('/cameras/:id/alert-events', auth.requirePermission('alert.source.manage'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await alerts.setEventWatch(authOf(req), req.ip ?? null, id, false));
  });
  r.get('/alerts/:id/snapshot.jpg', auth.requirePermission('alert.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const jpeg = await alerts.snapshot(authOf(req), id);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.type('image/jpeg').send(jpeg);
  });
  r.put('/cameras/:id/preset-places', auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await alerts.setPresetPlaces(authOf(req), req.ip ?? null, id, req.body));
  });
  r.get('/cameras/:id/preset-places', auth.requirePermission('camera.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await alerts.presetPlaces(authOf(req), id));
  });
  for (const action of ['ack', 'false-alarm', 'close'] as const satisfies readonly AlertAction[]) {
    r.post(`/alerts/:id/${action}`, auth.requirePermission('alert.handle'), async (req, res) => {
      const { id } = parseOr400(idParam, req.params);
      res.json(await alerts.act(authOf(req), req.ip ?? null, id, action, req.body ?? {}));
    });
  }
  return r;
}
