/**
 * ONVIF events from the simulator become alerts: a point marked for events
 * gets a PullPoint subscription; motion raises a blue alert and tamper an
 * orange one, pushed to the point's township only; repeats fold; unmarking
 * ends the subscription.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { AlertView } from '../../server/src/api/contract.ts';
import {
  client,
  firstVillage,
  listenAs,
  registerSimCamera,
  startTestServer,
  type TestServer,
  type TypedSocket,
} from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
/** Addresses of this run's own (issue 12): no demo and no other run answers on them. */
let block: LoopbackBlock;
let tech: ReturnType<typeof client>;
let admin: ReturnType<typeof client>;
const ids: number[] = [];
const heard: { own: AlertView[]; other: AlertView[] } = { own: [], other: [] };
const sockets: TypedSocket[] = [];

const until = async (cond: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    cameras: 0,
    overrides: { alerts: { onvifEvents: { enabled: true, maxSubscriptions: 4 } } },
  });
  sim = await startSimulator({
    cameras: defaultCameraSpecs(2, { firstIp: block.host(1), seed: 11 }).map((s) => ({ ...s, clockOffsetSec: 0 })),
    clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
    onvifPort: 8000,
    rtspPort: 8554,
    discovery: false,
    streamOverrides: { main: { width: 160, height: 90, fps: 5 }, sub: { width: 160, height: 90, fps: 5 } },
  });
  tech = client(t.api, await t.login('tech1'));
  admin = client(t.api, await t.login('admin'));
  const village = await firstVillage(tech);
  for (const [i, cam] of sim.cameras.entries()) {
    ids.push(
      await registerSimCamera(tech, cam, {
        name: `事件${i}`,
        orgUnitId: village,
        position: { lon: 118.7 + i * 0.001, lat: 31 },
        subStreamUri: null,
        ptz: false,
      }),
    );
  }
  const own = await listenAs(t, 'township1', 'alert:new');
  const other = await listenAs(t, 'township2', 'alert:new');
  heard.own = own.heard;
  heard.other = other.heard;
  sockets.push(own.socket, other.socket);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
  await sim?.stop();
  await block?.release();
});

describe('ONVIF events become alerts', () => {
  it('subscribes only to marked points', async () => {
    expect((await tech.put(`/cameras/${ids[0]}/alert-events`)).status).toBe(403);
    const r = await admin.put(`/cameras/${ids[0]}/alert-events`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ cameraId: ids[0], watching: true, subscribable: true });
    expect((await admin.put('/cameras/999999/alert-events')).status).toBe(404);
    expect(t.server.app.alertEvents.active()).toEqual([ids[0]]);
  });

  it('turns motion into a blue alert and tamper into an orange one, in scope only', async () => {
    const code = sim.cameras[0]!.code;
    // The subscription is made asynchronously: pulse until the first motion lands.
    let motion: AlertView | undefined;
    for (let i = 0; i < 10 && !motion; i++) {
      sim.emitEvent(code, 'motion', true);
      await until(() => heard.own.some((a) => a.type === 'motion'), 1000);
      motion = heard.own.find((a) => a.type === 'motion');
      sim.emitEvent(code, 'motion', false);
    }
    expect(motion).toMatchObject({ level: 'blue', cameraId: ids[0], source: { kind: 'onvif_event' } });
    sim.emitEvent(code, 'tamper', true);
    expect(await until(() => heard.own.some((a) => a.type === 'tamper'))).toBe(true);
    expect(heard.own.find((a) => a.type === 'tamper')).toMatchObject({ level: 'orange', cameraId: ids[0] });
    sim.emitEvent(code, 'tamper', false);
    expect(heard.other).toEqual([]);
  }, 30_000);

  it('folds repeated motion into the open alert', async () => {
    const code = sim.cameras[0]!.code;
    const before = heard.own.filter((a) => a.type === 'motion').length;
    const list = async () =>
      ((await admin.get('/alerts?since=0')).json.items as AlertView[]).filter(
        (a) => a.type === 'motion' && a.cameraId === ids[0],
      );
    const start = (await list())[0]!.count;
    for (let i = 0; i < 3; i++) {
      sim.emitEvent(code, 'motion', true);
      await new Promise((r) => setTimeout(r, 100));
      sim.emitEvent(code, 'motion', false);
    }
    let after = await list();
    for (let i = 0; i < 40 && after[0]!.count < start + 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await list();
    }
    expect(after).toHaveLength(1);
    expect(after[0]!.count).toBe(start + 3);
    expect(heard.own.filter((a) => a.type === 'motion').length).toBe(before);
  });

  it('stops the subscription when the mark is removed', async () => {
    expect((await admin.del(`/cameras/${ids[0]}/alert-events`)).status).toBe(200);
    expect(await until(() => t.server.app.alertEvents.active().length === 0)).toBe(true);
  });
});
