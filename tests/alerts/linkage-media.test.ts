/**
 * Linkage media against the simulator: an alert at a point gets a snapshot
 * from its linked camera, and a linked PTZ dome turns to the preset place a
 * technician registered near the point (audited as camera.ptz by the system,
 * recorded in the alert history). Another township cannot read the snapshot.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { AlertView } from '../../server/src/api/contract.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
let tech: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;
let dome = 0;
let fixed = 0;
const POINT = { lon: 118.75, lat: 31.02 };

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({ cameras: 0 });
  // Camera index 2 is a PTZ dome (every fifth, from the third).
  sim = await startSimulator({
    cameras: defaultCameraSpecs(3, { firstIp: block.host(1), seed: 13 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 8000,
    rtspPort: 8554,
    discovery: false,
    streamOverrides: { main: { width: 160, height: 90, fps: 5 }, sub: { width: 160, height: 90, fps: 5 } },
  });
  tech = client(t.api, await t.login('tech1'));
  admin = client(t.api, await t.login('admin'));
  const village = await firstVillage(tech);
  const register = (i: number, name: string, ptz: boolean, dLon: number) =>
    registerSimCamera(tech, sim.cameras[i]!, {
      name,
      orgUnitId: village,
      position: { lon: POINT.lon + dLon, lat: POINT.lat },
      ptz,
      subStreamUri: null,
    });
  // The fixed camera is nearest, so it is the first linked camera (snapshot source).
  fixed = await register(0, '联动枪机', false, 0.0002);
  dome = await register(2, '联动球机', true, 0.0005);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await sim?.stop();
  await block?.release();
});

describe('alert linkage media', () => {
  it('registers preset places for a PTZ camera only, validated and scoped', async () => {
    const places = [
      { token: '4', name: '学校门口', position: { lon: POINT.lon + 0.0001, lat: POINT.lat } },
      { token: '1', name: '路口北向', position: { lon: POINT.lon + 0.01, lat: POINT.lat } },
    ];
    expect((await tech.put(`/cameras/${fixed}/preset-places`, places)).status).toBe(409);
    expect(
      (await tech.put(`/cameras/${dome}/preset-places`, [{ token: '1', name: 'x', position: { lon: 200, lat: 0 } }]))
        .status,
    ).toBe(400);
    const r = await tech.put(`/cameras/${dome}/preset-places`, places);
    expect(r.status).toBe(200);
    expect((r.json as { token: string }[]).map((p) => p.token)).toEqual(['4', '1']);
    const got = await tech.get(`/cameras/${dome}/preset-places`);
    expect((got.json as { token: string }[]).map((p) => p.token).sort()).toEqual(['1', '4']);
    const other = client(t.api, await t.login('township2'));
    expect((await other.get(`/cameras/${dome}/preset-places`)).status).toBe(404);
  });

  it('an alert at the point gets a snapshot and turns the dome to the nearest preset', async () => {
    const src = await admin.post('/alert-sources', {
      name: '一键报警柱',
      orgUnitId: ((await admin.get('/org-units')).json as { id: number; parentId: number | null }[]).find(
        (o) => o.parentId === null,
      )!.id,
    });
    expect(src.status).toBe(201);
    const r = await fetch(`${t.api}/alerts/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-device-key': src.json.key },
      body: JSON.stringify({ type: 'alarm_button', level: 'red', position: POINT }),
    });
    expect(r.status).toBe(201);
    const alert = (await r.json()) as AlertView;
    expect(alert.linkedCameraIds).toEqual(expect.arrayContaining([fixed, dome]));
    await t.server.app.alerts.settled();

    const after = await admin.get(`/alerts/${alert.id}`);
    expect(after.json.hasSnapshot).toBe(true);
    expect(after.json.seq).toBeGreaterThan(alert.seq);
    const history = after.json.history as { actor: string; action: string; note: string | null }[];
    expect(history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'system:alerts',
          action: 'ptz_preset',
          note: expect.stringContaining(`camera ${dome} → preset 4`),
        }),
      ]),
    );

    const shot = await fetch(`${t.api}/alerts/${alert.id}/snapshot.jpg`, {
      headers: { authorization: `Bearer ${await t.login('admin')}` },
    });
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toMatch(/^image\/jpeg/);
    const bytes = new Uint8Array(await shot.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);

    const audit = await admin.get('/audit?action=camera.ptz');
    expect(JSON.stringify(audit.json)).toContain('system:alerts');

    const other = await fetch(`${t.api}/alerts/${alert.id}/snapshot.jpg`, {
      headers: { authorization: `Bearer ${await t.login('township2')}` },
    });
    expect(other.status).toBe(404);
  }, 30_000);
});
