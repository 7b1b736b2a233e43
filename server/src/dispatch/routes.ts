import express, { Router } from 'express';
import { z } from 'zod';
import { csvLine } from '../csv/csv.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import { HttpError, parseOr400 } from '../http/errors.ts';
import { listQuery, statsQuery, STEP_ACTIONS } from './schema.ts';
import type { DispatchService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
const attachmentParam = z
  .object({
    id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    aid: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  })
  .strict();
const pushListQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();

/** Upload paths that take an image body instead of JSON (app.ts lets them past the JSON-only gate). */
export const ORDER_UPLOAD_PATH = /^\/orders\/\d+\/attachments$/;

/** /api/v1 routes: work orders, their steps and evidence, statistics, and video dispatch. */
export function dispatchRoutes(deps: {
  auth: AuthService;
  dispatch: DispatchService;
  maxAttachmentBytes: number;
}): Router {
  const { auth, dispatch, maxAttachmentBytes } = deps;
  const r = Router();
  r.get('/orders', auth.requirePermission('order.read'), async (req, res) => {
    res.json(await dispatch.list(authOf(req), parseOr400(listQuery, req.query)));
  });
  r.post('/orders', auth.requirePermission('order.create'), async (req, res) => {
    res.status(201).json(await dispatch.create(authOf(req), req.ip ?? null, req.body));
  });
  r.get('/orders/stats', auth.requirePermission('order.stats'), async (req, res) => {
    res.json(await dispatch.stats(authOf(req), parseOr400(statsQuery, req.query)));
  });
  r.get('/orders/stats.csv', auth.requirePermission('order.stats'), async (req, res) => {
    const s = await dispatch.stats(authOf(req), parseOr400(statsQuery, req.query));
    const lines = [
      csvLine([
        '单位',
        '期间',
        '接收',
        '办结',
        '按期办结',
        '按期办结率',
        '平均办理时长(分钟)',
        'P90办理时长(分钟)',
        '当前逾期',
      ]),
    ];
    const rate = (a: number, b: number) => (b > 0 ? `${((a / b) * 100).toFixed(1)}%` : '');
    for (const row of [...s.units, s.total, ...s.series]) {
      lines.push(
        csvLine([
          row.orgName,
          row.period ?? `${s.from}~${s.to}`,
          row.received,
          row.closed,
          row.closedOnTime,
          rate(row.closedOnTime, row.closed),
          row.avgHandleMinutes,
          row.p90HandleMinutes,
          row.overdueNow,
        ]),
      );
    }
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="orders-${s.period}-${s.from}.csv"`);
    // A UTF-8 BOM makes Excel on Chinese Windows read the file as UTF-8.
    res.send(`\ufeff${lines.join('')}`);
  });
  r.get('/orders/:id', auth.requirePermission('order.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await dispatch.get(authOf(req), id));
  });
  for (const action of STEP_ACTIONS) {
    r.post(`/orders/:id/${action}`, auth.requirePermission('order.handle'), async (req, res) => {
      const { id } = parseOr400(idParam, req.params);
      res.json(await dispatch.step(authOf(req), req.ip ?? null, id, action, req.body));
    });
  }
  r.post(
    '/orders/:id/attachments',
    auth.requirePermission('order.handle'),
    (req, _res, next) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'image/jpeg' && type !== 'image/png')
        return next(
          new HttpError(415, 'unsupported_media_type', 'body: an image/jpeg or image/png body', [
            { path: 'body', message: 'Content-Type must be image/jpeg or image/png' },
          ]),
        );
      if (Number(req.headers['content-length'] ?? 0) > maxAttachmentBytes)
        return next(
          new HttpError(413, 'too_large', `body: larger than ${maxAttachmentBytes} bytes`, [
            { path: 'body', message: `larger than ${maxAttachmentBytes} bytes` },
          ]),
        );
      next();
    },
    express.raw({ type: ['image/jpeg', 'image/png'], limit: maxAttachmentBytes }),
    async (req, res) => {
      const { id } = parseOr400(idParam, req.params);
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw new HttpError(400, 'validation_failed', 'body: empty', [{ path: 'body', message: 'empty' }]);
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      res.status(201).json(await dispatch.upload(authOf(req), req.ip ?? null, id, type, body));
    },
  );
  r.get('/orders/:id/attachments/:aid', auth.requirePermission('order.read'), async (req, res) => {
    const { id, aid } = parseOr400(attachmentParam, req.params);
    const a = await dispatch.attachment(authOf(req), id, aid);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('Content-Disposition', 'inline');
    res.type(a.contentType).send(a.data);
  });
  r.post('/wall-pushes', auth.requirePermission('wall.dispatch'), async (req, res) => {
    res.status(201).json(await dispatch.push(authOf(req), req.ip ?? null, req.body));
  });
  r.get('/wall-pushes', auth.requirePermission('wall.read'), async (req, res) => {
    const { limit } = parseOr400(pushListQuery, req.query);
    res.json(await dispatch.pushes(authOf(req), limit));
  });
  return r;
}
