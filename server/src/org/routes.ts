import { Router } from 'express';
import type { NetworkView, OrgUnitView } from '../api/contract.ts';
import { authOf, type AuthService } from '../auth/index.ts';
import type { NetworkRepo } from '../cameras/networks.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import type { OrgRepo } from './repo.ts';
import { inScope } from './scope.ts';

export function orgRoutes(deps: {
  auth: AuthService;
  orgs: OrgRepo;
  networks: NetworkRepo;
  cameras: CameraRepo;
}): Router {
  const { auth, orgs, networks, cameras } = deps;
  const r = Router();

  /** The caller's own subtree, each unit with counts rolled up over its subtree. */
  r.get('/org-units', auth.requirePermission('org.read'), async (req, res) => {
    const ctx = authOf(req);
    const units = orgs.all().filter((u) => inScope(ctx.scope, u.path));
    const totals = new Map<number, { total: number; online: number }>(
      units.map((u) => [u.id, { total: 0, online: 0 }]),
    );
    const byId = new Map(units.map((u) => [u.id, u]));
    for (const c of await cameras.countsByOrg(ctx.scope)) {
      const unit = byId.get(c.orgUnitId);
      if (!unit) continue;
      for (const seg of unit.path.split('/').filter(Boolean)) {
        const t = totals.get(Number(seg));
        if (t) {
          t.total += c.total;
          t.online += c.online;
        }
      }
    }
    const out: OrgUnitView[] = units.map((u) => ({
      id: u.id,
      // The caller's own unit is the root of what they see.
      parentId: u.id === ctx.scope.orgUnitId ? null : u.parentId,
      code: u.code,
      name: u.name,
      level: u.level,
      cameraCount: totals.get(u.id)?.total ?? 0,
      onlineCount: totals.get(u.id)?.online ?? 0,
    }));
    res.json(out);
  });

  r.get('/networks', auth.requirePermission('camera.read'), async (req, res) => {
    const ctx = authOf(req);
    const counts = new Map((await cameras.countsByNetwork(ctx.scope)).map((c) => [c.networkId, c]));
    const out: NetworkView[] = networks.all().map((n) => ({
      id: n.id,
      name: n.name,
      nameEn: n.nameEn,
      cameraCount: counts.get(n.id)?.total ?? 0,
      onlineCount: counts.get(n.id)?.online ?? 0,
    }));
    res.json(out);
  });

  return r;
}
