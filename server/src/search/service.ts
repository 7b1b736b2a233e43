/**
 * 地图搜索 (issue 17): one box over the places a duty officer names: org units
 * (township, village), camera points (name or code) and their mounting
 * addresses. Everything is cut to the caller's jurisdiction: a township never
 * finds another township's units, points or addresses.
 */
import type { PlaceSearchResult } from '../api/contract.ts';
import type { AuthContext } from '../auth/index.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import type { SearchRepo } from './repo.ts';

type Bbox = [number, number, number, number];

/** Every position of a Polygon or MultiPolygon, whatever the nesting. */
function positions(geometry: unknown): number[][] {
  const g = geometry as { type?: string; coordinates?: unknown } | null;
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return [];
  const out: number[][] = [];
  const walk = (c: unknown) => {
    if (Array.isArray(c) && typeof c[0] === 'number') out.push(c as number[]);
    else if (Array.isArray(c)) for (const x of c) walk(x);
  };
  walk(g.coordinates);
  return out;
}

function bboxOf(u: OrgUnit): Bbox | null {
  const pts = positions(u.boundary);
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0] ?? 0);
  const ys = pts.map((p) => p[1] ?? 0);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

export function createSearchService(deps: { repo: SearchRepo; orgs: OrgRepo }) {
  const { repo, orgs } = deps;
  return {
    async search(ctx: AuthContext, text: string, limit: number): Promise<PlaceSearchResult[]> {
      const q = text.toLowerCase();
      const unitName = (id: number) => orgs.byId(id)?.name ?? '';
      const units: PlaceSearchResult[] = orgs
        .all()
        .filter((u) => inScope(ctx.scope, u.path) && (u.name.toLowerCase().includes(q) || u.code.toLowerCase() === q))
        .sort((a, b) => a.path.split('/').length - b.path.split('/').length || a.name.length - b.name.length)
        .flatMap((u) => {
          const bbox = bboxOf(u);
          if (!bbox) return [];
          const parent = u.parentId !== null ? unitName(u.parentId) : '';
          return [
            {
              kind: 'org' as const,
              id: u.id,
              name: u.name,
              detail: parent,
              position: { lon: (bbox[0] + bbox[2]) / 2, lat: (bbox[1] + bbox[3]) / 2 },
              bbox,
            },
          ];
        });
      const points: PlaceSearchResult[] = (await repo.points(ctx.scope, q, limit)).map((p) => ({
        kind: 'camera',
        id: p.id,
        name: p.name,
        detail: [unitName(p.orgUnitId), p.address].filter(Boolean).join(' · '),
        position: { lon: p.lon, lat: p.lat },
        bbox: null,
      }));
      // One hit per address: several cameras on one pole share it.
      const seen = new Set<string>();
      const addresses: PlaceSearchResult[] = [];
      for (const p of await repo.addresses(ctx.scope, q, limit * 2)) {
        if (!p.address || seen.has(p.address)) continue;
        seen.add(p.address);
        addresses.push({
          kind: 'address',
          id: p.id,
          name: p.address,
          detail: `${unitName(p.orgUnitId)} · ${p.name}`,
          position: { lon: p.lon, lat: p.lat },
          bbox: null,
        });
      }
      // Each kind gets a share of the list before one crowds the others out.
      const share = Math.max(1, Math.floor(limit / 3));
      const head = [...units.slice(0, share), ...points.slice(0, share), ...addresses.slice(0, share)];
      const rest = [...units.slice(share), ...points.slice(share), ...addresses.slice(share)];
      return [...head, ...rest].slice(0, limit);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
