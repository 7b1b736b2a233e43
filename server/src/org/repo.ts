import type { OrgLevel } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { checkText } from '../http/text.ts';

/** 组织 — a county, township (乡镇/街道) or village (村/社区) unit. */
export interface OrgUnit {
  id: number;
  parentId: number | null;
  code: string;
  name: string;
  level: OrgLevel;
  path: string;
  /** GeoJSON Polygon/MultiPolygon geometry in WGS-84, when known. */
  boundary: unknown;
}

export interface NewOrgUnit {
  parentId: number | null;
  code: string;
  name: string;
  level: OrgLevel;
  boundary?: unknown;
}

export interface OrgRepo {
  /** Reads the tree into memory; before it, the readers below throw. `createApp` awaits it at start. */
  load(): Promise<void>;
  all(): OrgUnit[];
  byId(id: number): OrgUnit | undefined;
  byCode(code: string): OrgUnit | undefined;
  insert(unit: NewOrgUnit): Promise<OrgUnit>;
}

interface OrgRow {
  id: number;
  parent_id: number | null;
  code: string;
  name: string;
  level: OrgLevel;
  path: string;
  boundary: string | null;
}

/**
 * The org tree is small (a county has tens of townships and hundreds of
 * villages) and read on every request, so it is held in memory: read at start
 * and again after each write. Units come from first-start setup and seeding,
 * not from requests, so another instance's copy cannot go stale while it runs.
 */
export function createOrgRepo(store: Store, now: () => Date): OrgRepo {
  let cache: { list: OrgUnit[]; byId: Map<number, OrgUnit>; byCode: Map<string, OrgUnit> } | null = null;
  const read = async () => {
    const list = (
      await store.all<OrgRow>('SELECT id, parent_id, code, name, level, path, boundary FROM org_units ORDER BY path')
    ).map((r) => ({
      id: r.id,
      parentId: r.parent_id,
      code: r.code,
      name: r.name,
      level: r.level,
      path: r.path,
      boundary: r.boundary ? (JSON.parse(r.boundary) as unknown) : null,
    }));
    cache = { list, byId: new Map(list.map((u) => [u.id, u])), byCode: new Map(list.map((u) => [u.code, u])) };
  };
  const load = () => {
    if (!cache) throw new Error('org units read before load()');
    return cache;
  };
  return {
    load: read,
    all: () => load().list,
    byId: (id) => load().byId.get(id),
    byCode: (code) => load().byCode.get(code),
    async insert(unit) {
      // Org units come from configuration and seeding, not from a request, but their names are
      // shown on every list and wall: they follow the same text policy as everything typed in.
      const name = checkText(unit.name, { max: 64 });
      if (!name.ok) throw new Error(`org unit name: ${name.message}`);
      const code = checkText(unit.code, { max: 32 });
      if (!code.ok) throw new Error(`org unit code: ${code.message}`);
      unit = { ...unit, name: name.value, code: code.value };
      const parent = unit.parentId === null ? undefined : load().byId.get(unit.parentId);
      if (unit.parentId !== null && !parent) throw new Error(`parent org unit ${unit.parentId} does not exist`);
      const out = await store.transaction(async () => {
        const id = await store.insert(
          'INSERT INTO org_units (parent_id, code, name, level, path, boundary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [
            unit.parentId,
            unit.code,
            unit.name,
            unit.level,
            '/',
            unit.boundary ? JSON.stringify(unit.boundary) : null,
            now().toISOString(),
          ],
        );
        const path = `${parent ? parent.path : '/'}${id}/`;
        await store.run('UPDATE org_units SET path = ? WHERE id = ?', [path, id]);
        return { id, path };
      });
      await read();
      const created = load().byId.get(out.id);
      if (!created) throw new Error('org unit vanished after insert');
      return created;
    },
  };
}
