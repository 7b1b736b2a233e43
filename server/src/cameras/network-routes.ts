/**
 * /api/v1/networks (write side): the camera networks an admin adds, renames
 * or removes in the console. A network is county-wide, not a jurisdiction's:
 * only an admin whose unit is the root of the org tree may change the list
 * (a township admin gets 403). Built-in networks and the ones named in the
 * config are fixed here (the config is re-applied at every start).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { NetworkView } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import { authOf, type AuthContext, type AuthService } from '../auth/index.ts';
import { HttpError, conflict, forbidden, notFound, parseOr400 } from '../http/errors.ts';
import type { Request } from 'express';
import type { NetworkRepo } from './networks.ts';
import { plainText } from './schema.ts';

const idParam = z.object({ id: z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, 'not a network id') }).strict();
export const networkCreateSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, '2-32 lower-case letters, digits, _ or -, starting with a letter'),
    name: plainText(32),
    nameEn: plainText(64),
  })
  .strict();
export const networkPatchSchema = z
  .object({ name: plainText(32).optional(), nameEn: plainText(64).optional() })
  .strict();

export function networkRoutes(deps: {
  auth: AuthService;
  networks: NetworkRepo;
  audit: AuditLog;
  /** A change and its audit entry are written in one transaction (issue 13: both or neither). */
  store: Pick<Store, 'transaction'>;
  /** Ids the config defines (extraNetworks): re-applied at start, so not edited here. */
  configured: ReadonlySet<string>;
}): Router {
  const { auth, networks, audit, configured, store } = deps;
  const r = Router();
  const actor = (ctx: AuthContext, req: Request) => actorOf(ctx, req.ip ?? null);
  const countyOnly = (ctx: AuthContext) => {
    if (ctx.orgUnit.parentId !== null) throw forbidden('networks are county-wide: only a county admin may change them');
  };
  const view = async (id: string): Promise<NetworkView> => {
    const n = networks.all().find((x) => x.id === id);
    if (!n) throw notFound('network');
    const count = await networks.pointCount(id);
    return { id: n.id, name: n.name, nameEn: n.nameEn, cameraCount: count, onlineCount: 0 };
  };
  const fixed = (id: string) => {
    const n = networks.all().find((x) => x.id === id);
    if (!n) throw notFound('network');
    if (n.builtin || configured.has(id))
      throw new HttpError(409, 'network_fixed', 'id: a built-in or configured network cannot be changed here', [
        { path: 'id', message: 'built in or configured' },
      ]);
  };

  r.post('/networks', auth.requirePermission('network.manage'), async (req, res) => {
    const ctx = authOf(req);
    countyOnly(ctx);
    const body = parseOr400(networkCreateSchema, req.body);
    const taken = () => conflict('id: already taken', [{ path: 'id', message: 'already taken' }]);
    if (networks.has(body.id)) throw taken();
    try {
      // The entry first: the insert re-reads the list into memory, the last step before COMMIT.
      await store.transaction(async () => {
        await audit.record({
          actor: actor(ctx, req),
          action: 'network.create',
          targetType: 'network',
          targetId: body.id,
          outcome: 'ok',
          detail: { name: body.name, nameEn: body.nameEn },
        });
        await networks.insert(body);
      });
    } catch (err) {
      // Taken meanwhile (another request, or an instance whose list this one has not read yet): the same answer.
      if (/UNIQUE constraint failed: networks\.id|duplicate key.*networks_pkey/i.test(String((err as Error)?.message)))
        throw taken();
      throw err;
    }
    res.status(201).json(await view(body.id));
  });

  r.patch('/networks/:id', auth.requirePermission('network.manage'), async (req, res) => {
    const ctx = authOf(req);
    countyOnly(ctx);
    const { id } = parseOr400(idParam, req.params);
    const body = parseOr400(networkPatchSchema, req.body);
    fixed(id);
    await store.transaction(async () => {
      await audit.record({
        actor: actor(ctx, req),
        action: 'network.update',
        targetType: 'network',
        targetId: id,
        outcome: 'ok',
        detail: { ...body },
      });
      await networks.rename(id, body);
    });
    res.json(await view(id));
  });

  r.delete('/networks/:id', auth.requirePermission('network.manage'), async (req, res) => {
    const ctx = authOf(req);
    countyOnly(ctx);
    const { id } = parseOr400(idParam, req.params);
    fixed(id);
    const inUse = (points: number) =>
      new HttpError(409, 'network_in_use', `id: ${points} camera points are on this network`, [
        { path: 'id', message: `${points} camera points are on this network` },
      ]);
    const points = await networks.pointCount(id);
    if (points > 0) throw inUse(points);
    try {
      await store.transaction(async () => {
        await audit.record({
          actor: actor(ctx, req),
          action: 'network.delete',
          targetType: 'network',
          targetId: id,
          outcome: 'ok',
        });
        await networks.delete(id);
      });
    } catch (err) {
      // A point registered on it since the count: the same answer (the reference refused the delete).
      if (/FOREIGN KEY constraint failed|violates foreign key constraint/i.test(String((err as Error)?.message)))
        throw inUse(await networks.pointCount(id));
      throw err;
    }
    res.status(204).end();
  });
  return r;
}
