/**
 * Issue 13: with no storm window (`alerts.stormWindowSeconds: 0`, as bench:cluster and the cluster tests run)
 * nothing folds, so an alert is written without the storm lock, by the repository alone: on PostgreSQL the
 * counter, the alert and its `created` entry in one statement (server/src/alerts/repo.ts). On both engines:
 * each report is an alert of its own, with its history entry, and the cursor grows by one per alert with no
 * gap, also for reports sent all at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let key = '';
let position = { lon: 0, lat: 0 };

beforeAll(async () => {
  t = await startTestServer({
    townships: 1,
    villages: 1,
    cameras: 0,
    overrides: { alerts: { stormWindowSeconds: 0 } },
  });
  const admin = client(t.api, await t.login('admin'));
  const village = t.server.app.repos.orgs.all().find((u) => u.level === 'village')!;
  const ring = (village.boundary as { coordinates: number[][][] }).coordinates[0]!;
  position = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
  const src = await admin.post('/alert-sources', {
    name: '无风暴窗口',
    orgUnitId: village.parentId,
    rateLimitPerMinute: 10_000,
  });
  expect(src.status, src.text).toBe(201);
  key = src.json.key as string;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const ingest = async (title: string) => {
  const res = await fetch(`${t.api}/alerts/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-key': key },
    body: JSON.stringify({ type: 'intrusion', level: 'red', title, position }),
  });
  return { status: res.status, json: (await res.json()) as AlertView };
};

describe('alerts without a storm window', () => {
  it('makes every report an alert of its own, with its created entry and the next cursor value', async () => {
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => ingest(`同一地点 #${i}`)));
    expect(sent.map((s) => s.status)).toEqual(Array<number>(20).fill(201));
    const ids = new Set(sent.map((s) => s.json.id));
    expect(ids.size).toBe(20);
    for (const s of sent) {
      expect(s.json).toMatchObject({ status: 'new', count: 1, level: 'red' });
      expect(s.json.previousAlertId).toBeUndefined();
    }
    // One cursor value per alert, none skipped and none shared.
    const seqs = sent.map((s) => s.json.seq).sort((a, b) => a - b);
    expect(seqs[seqs.length - 1]! - seqs[0]!).toBe(19);

    const county = client(t.api, await t.login('county'));
    for (const s of sent.slice(0, 3)) {
      const detail = await county.get(`/alerts/${s.json.id}`);
      expect(detail.status, detail.text).toBe(200);
      expect(detail.json.title).toBe(s.json.title);
      expect(detail.json.history.map((h: { action: string; actor: string }) => h.action)).toEqual(['created']);
    }
    const replay = await county.get(`/alerts?since=${seqs[0]! - 1}&limit=100`);
    expect((replay.json.items as AlertView[]).map((a) => a.seq)).toEqual(seqs);
  });
});
