/**
 * The demo county's places as alert tests need them: townships in id order,
 * their villages, a village's centre, a point some metres away, device keys
 * and the ingest call over real HTTP.
 */
import type { AlertView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, type TestServer } from '../helpers/server.ts';

export interface Places {
  county: OrgUnit;
  townships: OrgUnit[];
  villagesOf(township: OrgUnit): OrgUnit[];
}

export function places(t: TestServer): Places {
  const all = t.server.app.repos.orgs.all();
  const townships = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id);
  return {
    county: all.find((u) => u.parentId === null)!,
    townships,
    villagesOf: (tw) => all.filter((u) => u.parentId === tw.id && u.level === 'village').sort((a, b) => a.id - b.id),
  };
}

/** Centre of a village's box boundary. */
export const centre = (u: OrgUnit): [number, number] => {
  const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
  const [x0, y0] = ring[0]!;
  const [x1, y1] = ring[2]!;
  return [(x0! + x1!) / 2, (y0! + y1!) / 2];
};

/** A point `north`/`east` metres away. */
export const offset = (p: [number, number], north: number, east: number): [number, number] => [
  p[0] + east / (111_320 * Math.cos((p[1] * Math.PI) / 180)),
  p[1] + north / 111_320,
];

/** Issues a device key for `orgUnitId` as the admin. */
export async function deviceKey(t: TestServer, name: string, orgUnitId: number, rateLimitPerMinute = 10_000) {
  const admin = client(t.api, await t.login('admin'));
  const r = await admin.post('/alert-sources', { name, orgUnitId, rateLimitPerMinute });
  if (r.status !== 201) throw new Error(`alert source ${name}: ${r.status} ${r.text}`);
  return r.json.key as string;
}

export type IngestAnswer = {
  status: number;
  headers: Headers;
  json: AlertView & { error?: { code: string; fields?: { path: string; message: string }[] } };
};

/** POST /alerts/ingest with a device key (none when null). */
export async function ingest(t: TestServer, key: string | null, body: unknown): Promise<IngestAnswer> {
  const res = await fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-device-key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

export const fieldPaths = (a: { json: { error?: { fields?: { path: string }[] } } }) =>
  (a.json.error?.fields ?? []).map((f) => f.path);

export const alertCount = async (t: TestServer) =>
  (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM alerts'))!.n;
