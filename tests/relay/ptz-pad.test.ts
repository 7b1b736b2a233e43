/**
 * The PTZ pad's commands over ONVIF against the simulated dome (issue 17,
 * item 9): focus by Imaging Move/Stop, the iris by imaging settings, presets
 * stored and removed on the device, each rate-limited and audited; a fixed
 * camera and another township's dome refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type SimCameraInfo, type Simulator } from '../../scripts/sim/index.ts';
import type { AuditEntry, PtzPresetView } from '../../server/src/api/contract.ts';
import { client, firstVillage, registerSimCamera, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let sim: Simulator;
let block: LoopbackBlock;
let clipDir: string;
let op: ReturnType<typeof client>;
let dome: SimCameraInfo;
let domeId: number;
let fixedId: number;

/** One imaging call to the simulator, read back as text (HTTP Basic, which the simulator accepts). */
async function imaging(cam: SimCameraInfo, op: string): Promise<string> {
  const body =
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
    `<${op} xmlns="http://www.onvif.org/ver20/imaging/wsdl"><VideoSourceToken>VideoSource_1</VideoSourceToken></${op}>` +
    '</s:Body></s:Envelope>';
  const res = await fetch(cam.deviceServiceUrl.replace(/device_service$/, 'imaging_service'), {
    method: 'POST',
    headers: {
      'content-type': 'application/soap+xml; charset=utf-8',
      authorization: `Basic ${Buffer.from(`${cam.username}:${cam.password}`).toString('base64')}`,
    },
    body,
  });
  return res.text();
}
const focusOf = async (cam: SimCameraInfo) =>
  Number(/<tt:Position>([\d.]+)</.exec(await imaging(cam, 'GetStatus'))?.[1]);
const irisOf = async (cam: SimCameraInfo) =>
  Number(/<tt:Iris>([-\d.]+)</.exec(await imaging(cam, 'GetImagingSettings'))?.[1]);

beforeAll(async () => {
  t = await startTestServer({ cameras: 10, overrides: { relay: { ptzPerSecond: 5 } } });
  clipDir = mkdtempSync(path.join(tmpdir(), 'ccc-ptz-pad-'));
  block = await claimLoopbackBlock();
  sim = await startSimulator({
    cameras: defaultCameraSpecs(2, { firstIp: block.host(1), seed: 12 }).map((s, i) => ({
      ...s,
      ptz: i === 0,
      clockOffsetSec: 0,
    })),
    clipDir,
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    streamOverrides: { main: { width: 160, height: 90, fps: 5 }, sub: { width: 160, height: 90, fps: 5 } },
  });
  dome = sim.cameras[0]!;
  const tech = client(t.api, await t.login('tech1'));
  const village = await firstVillage(tech);
  domeId = await registerSimCamera(tech, dome, { name: '控制盘测试球机', orgUnitId: village, ptz: true });
  fixedId = await registerSimCamera(tech, sim.cameras[1]!, { name: '控制盘测试枪机', orgUnitId: village, ptz: false });
  op = client(t.api, await t.login('township1'));
});
afterAll(async () => {
  await sim?.stop();
  await t?.close();
  await block?.release();
  if (clipDir) rmSync(clipDir, { recursive: true, force: true });
});

describe('the PTZ pad over ONVIF', () => {
  it('focuses far and stops (Imaging Move/Stop), then near', async () => {
    const before = await focusOf(dome);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'focus', speed: 1 })).status).toBe(204);
    await expect.poll(() => focusOf(dome)).toBeGreaterThan(before);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'focus', speed: 0 })).status).toBe(204);
    const stopped = await focusOf(dome);
    await new Promise((r) => setTimeout(r, 300));
    expect(await focusOf(dome)).toBe(stopped);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'focus', speed: -1 })).status).toBe(204);
    await expect.poll(() => focusOf(dome)).toBeLessThan(stopped);
    await op.post(`/cameras/${domeId}/ptz`, { action: 'focus', speed: 0 });
  });

  it('closes and opens the iris a step at a time', async () => {
    expect(await irisOf(dome)).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // a fresh second of the rate limit
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'iris', step: -1 })).status).toBe(204);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'iris', step: -1 })).status).toBe(204);
    expect(await irisOf(dome)).toBe(-2);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'iris', step: 1 })).status).toBe(204);
    expect(await irisOf(dome)).toBe(-1);
  });

  it('stores a preset where the dome looks, goes back to it, and removes it', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const saved = await op.post(`/cameras/${domeId}/ptz/presets`, { name: '学校门口' });
    expect(saved.status, saved.text).toBe(201);
    const preset = saved.json as PtzPresetView;
    expect(preset.name).toBe('学校门口');
    const list = (await op.get(`/cameras/${domeId}/ptz/presets`)).json as PtzPresetView[];
    expect(list.map((p) => p.token)).toContain(preset.token);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'goto', preset: preset.token })).status).toBe(204);
    expect((await op.del(`/cameras/${domeId}/ptz/presets/${preset.token}`)).status).toBe(204);
    const after = (await op.get(`/cameras/${domeId}/ptz/presets`)).json as PtzPresetView[];
    expect(after.map((p) => p.token)).not.toContain(preset.token);
    // A preset name follows the text policy and the field is named.
    const bad = await op.post(`/cameras/${domeId}/ptz/presets`, { name: ' ' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].path).toBe('name');
  });

  it('audits each command, refuses a fixed camera, another township and a flood', async () => {
    const admin = client(t.api, await t.login('admin'));
    const log = (await admin.get(`/audit?action=camera.ptz&targetId=${domeId}&limit=100`)).json.items as AuditEntry[];
    const actions = log.map((e) => e.detail?.['action']);
    expect(actions).toEqual(expect.arrayContaining(['focus', 'iris', 'set_preset', 'remove_preset', 'goto']));
    expect(log.find((e) => e.detail?.['action'] === 'set_preset')?.detail).toMatchObject({ name: '学校门口' });

    expect((await op.post(`/cameras/${fixedId}/ptz`, { action: 'focus', speed: 1 })).status).toBe(409);
    const t2 = client(t.api, await t.login('township2'));
    expect((await t2.post(`/cameras/${domeId}/ptz`, { action: 'iris', step: 1 })).status).toBe(404);
    expect((await t2.post(`/cameras/${domeId}/ptz/presets`, { name: 'x' })).status).toBe(404);
    expect((await op.post(`/cameras/${domeId}/ptz`, { action: 'iris', step: 2 })).json.error.fields[0].path).toBe(
      'step',
    );
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await op.post(`/cameras/${domeId}/ptz`, { action: 'focus', speed: 0 })).status);
    expect(statuses).toContain(429);
  });
});
