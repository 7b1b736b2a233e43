/**
 * A sweep yields to live video and still finishes (issue 16): with 16 relays playing and one slot fewer per
 * 8 relays, at most concurrency − 2 diagnoses run at once, and the slots left waiting end with the sweep
 * (they once waited forever). A camera whose diagnosis throws or times out does not stop the sweep. The
 * media plane is a stand-in here; tests/quality/quality.test.ts runs the real one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import type { DiagnosisResult } from '../../streams/src/index.ts';
import type { PictureProbe } from '../../server/src/quality/probe.ts';
import { client, firstVillage, startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
/** The points' address: a block of this run's own, so nothing on the machine can answer for them (issue 12). */
let block: LoopbackBlock;
let inFlight = 0;
let peak = 0;
const seen: string[] = [];
const good: DiagnosisResult = {
  status: 'good',
  kinds: [],
  reason: null,
  detail: null,
  measures: null,
  signature: null,
  thumbnail: null,
  pictures: 7,
  ms: 10,
  analysisMs: 1,
};
const probe: PictureProbe = {
  async diagnose(source) {
    seen.push(source.url);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight--;
    if (source.url.endsWith('/broken')) throw new Error('the camera sent garbage');
    return good;
  },
};

beforeAll(async () => {
  block = await claimLoopbackBlock();
  t = await startTestServer({
    cameras: 0,
    pictureProbe: probe,
    overrides: { quality: { concurrency: 6, relaysPerSlot: 8 } },
  });
  const tech = client(t.api, await t.login('tech'));
  const village = await firstVillage(tech);
  for (let i = 0; i < 30; i++) {
    const r = await tech.post('/cameras', {
      name: `让行${i}`,
      networkId: 'xueliang',
      orgUnitId: village,
      position: { lon: 118.7, lat: 31 },
      subStreamUri: `rtsp://${block.host(9)}:554/${i === 7 ? 'broken' : `cam${i}`}`,
    });
    expect(r.status, r.text).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
  await block?.release();
});

it('runs at most concurrency − relays/relaysPerSlot diagnoses while 16 relays play, and finishes', async () => {
  for (let id = 1; id <= 16; id++)
    t.server.app.bus.emit('stream.state', {
      orgPath: '/',
      event: {
        cameraId: 1000 + id,
        quality: 'main',
        state: 'live',
        reason: null,
        viewers: 1,
        bitrateKbps: null,
        fps: null,
        restarts: 0,
      },
    });
  expect(t.server.app.quality.liveRelays()).toBe(16);
  const tech = client(t.api, await t.login('tech'));
  expect((await tech.post('/quality/sweeps', {})).status).toBe(202);
  await t.server.app.quality.settled();
  const sweep = ((await tech.get('/quality/sweeps')).json as { status: string; checked: number; failed: number }[])[0]!;
  expect(sweep).toMatchObject({ status: 'done', checked: 30, failed: 1 });
  expect(seen).toHaveLength(30);
  expect(peak).toBeLessThanOrEqual(4);
  expect(peak).toBeGreaterThan(1);
});
