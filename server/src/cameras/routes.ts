import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import { HttpError, badRequest, parseOr400 } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { parseLedgerOffThread } from './import-job.ts';
import { codedImportError, exportHeader, exportRow } from './ledger.ts';
import type { NetworkRepo } from './networks.ts';
import type { CameraRepo } from './repo.ts';
import { cameraCreateSchema, cameraPatchSchema, cameraQuerySchema } from './schema.ts';
import { actorOf } from '../audit/index.ts';
import { type CameraService } from './service.ts';

const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();
const exportQuery = cameraQuerySchema
  .omit({ limit: true, cursor: true, withTotal: true })
  .extend({ header: z.enum(['en', 'zh']).default('en') })
  .strict();
const deleteQuery = z.object({ version: z.coerce.number().int().positive().optional() }).strict();
const importQuery = z.object({ encoding: z.enum(['utf-8', 'gbk', 'gb18030']).optional() }).strict();

export function cameraRoutes(deps: {
  auth: AuthService;
  service: CameraService;
  cameras: CameraRepo;
  orgs: OrgRepo;
  networks: NetworkRepo;
  audit: AuditLog;
  importLimitBytes: number;
  maxImportRows: number;
}): Router {
  const { auth, service, cameras, orgs, networks, audit } = deps;
  const r = Router();
  const ip = (req: Request) => req.ip ?? null;

  r.get('/cameras', auth.requirePermission('camera.read'), async (req, res) => {
    res.json(await service.search(authOf(req), parseOr400(cameraQuerySchema, req.query)));
  });

  r.get('/cameras/export.csv', auth.requirePermission('camera.export'), async (req, res) => {
    const ctx = authOf(req);
    const q = parseOr400(exportQuery, req.query);
    const filter = service.filterOf(ctx, { ...q, limit: 1 });
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="camera-points-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    // A UTF-8 BOM makes Excel on Chinese Windows read the file as UTF-8.
    res.write('\uFEFF' + exportHeader(q.header));
    let after = 0;
    let n = 0;
    for (;;) {
      const page = (await cameras.search(ctx.scope, filter, after, 2000)).rows;
      if (!page.length) break;
      res.write(page.map((p) => exportRow(p, orgs.byId(p.orgUnitId)?.code ?? '')).join(''));
      n += page.length;
      after = page[page.length - 1]?.id ?? after;
    }
    // Audited before the last byte, so whoever reads the log after the download sees it.
    await audit.record({
      actor: actorOf(ctx, ip(req)),
      action: 'camera.export',
      outcome: 'ok',
      detail: { rows: n, filter: req.query },
    });
    res.end();
  });

  r.post(
    '/cameras/import',
    auth.requirePermission('camera.import'),
    express.raw({ type: () => true, limit: deps.importLimitBytes }),
    async (req, res) => {
      const ctx = authOf(req);
      const q = parseOr400(importQuery, req.query);
      const type = (req.get('content-type') ?? '').toLowerCase();
      if (
        !/^(text\/csv|text\/plain|application\/csv|application\/vnd\.ms-excel|application\/octet-stream)\b/.test(type)
      ) {
        throw new HttpError(415, 'unsupported_media_type', 'body: send the ledger as text/csv', [
          { path: 'body', message: 'Content-Type must be text/csv' },
        ]);
      }
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw badRequest([{ path: 'body', message: 'the file is empty' }]);
      const charset = /charset=([\w-]+)/.exec(type)?.[1];
      // Parsing and the schema run in a worker thread; the registry's checks and the write yield as they go
      // (issue 12: a 200,000-row file stalled every request for seconds).
      const parsed = await parseLedgerOffThread({
        body,
        encoding: q.encoding ?? charset,
        networks: networks.all(),
        orgs: orgs.all(),
        maxRows: deps.maxImportRows,
      });
      if (parsed.kind === 'bad-encoding') throw badRequest([{ path: 'body', message: parsed.message }]);
      const { headerBroken } = parsed;
      const report = headerBroken
        ? { ok: false, rows: 0, created: 0, encoding: parsed.encoding, errors: parsed.errors }
        : await service.importParsed(ctx, ip(req), parsed);
      if (headerBroken) {
        await audit.record({
          actor: actorOf(ctx, ip(req)),
          action: 'camera.import',
          outcome: 'failed',
          detail: { errors: parsed.errors.length },
        });
      }
      res.status(report.ok ? 201 : 422).json({ ...report, errors: report.errors.map(codedImportError) });
    },
  );

  r.get('/cameras/:id', auth.requirePermission('camera.read'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await service.get(authOf(req), id));
  });

  r.post('/cameras', auth.requirePermission('camera.write'), async (req, res) => {
    const view = await service.create(authOf(req), ip(req), parseOr400(cameraCreateSchema, req.body));
    res.status(201).location(`/api/v1/cameras/${view.id}`).json(view);
  });

  r.patch('/cameras/:id', auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    res.json(await service.update(authOf(req), ip(req), id, parseOr400(cameraPatchSchema, req.body)));
  });

  r.delete('/cameras/:id', auth.requirePermission('camera.write'), async (req, res) => {
    const { id } = parseOr400(idParam, req.params);
    const { version } = parseOr400(deleteQuery, req.query);
    await service.remove(authOf(req), ip(req), id, version);
    res.status(204).end();
  });

  return r;
}
