/**
 * An alert's evidence clip is kept as long as its alert or its work order lives (issue 14), then the retention
 * pass deletes it: the row and the file, nothing orphaned either way. Real server, real recorder (ffmpeg)
 * against the simulator. Nothing in the API removes alerts or orders yet (an alert retention or an order
 * archive would), so the test removes their rows as such a job would. Also: a clip whose file is already
 * gone does not stop the pass, and a clip file no row names is removed at start-up. A kept clip is listed and
 * fetched through its order once its alert is gone, and not by another township.
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, firstVillage, registerSimCamera } from '../helpers/server.ts';
import { openRecordingBench, type RecordingBench, type RecordingServer } from './support.ts';

let bench: RecordingBench;
let rs: RecordingServer;
let cam = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const as = async (user: string) => client(rs.api, await rs.login(user));

interface ClipRowSeen {
  id: number;
  status: string;
  path: string | null;
  orderId: number | null;
}

const clipOf = (alertId: number) =>
  rs.store.get<ClipRowSeen>(
    'SELECT id, status, path, order_id AS "orderId" FROM recording_clips WHERE alert_id = ? AND camera_id = ?',
    [alertId, cam],
  );
const fileOf = (rel: string) => path.join(bench.base, 'rec', rel);

/** Two passes: the first may be one already under way when the rows changed. */
async function passes(): Promise<void> {
  await rs.server.app.recording.pass();
  await rs.server.app.recording.pass();
}

/** An alert on the recorded point, and its evidence clip once cut. */
async function alertWithClip(): Promise<{ alertId: number; clip: ClipRowSeen & { path: string } }> {
  const made = await rs.server.app.alerts.cameraEvent({
    cameraId: cam,
    kind: 'motion',
    deviceTime: null,
    topic: 'test',
  });
  expect(made).not.toBeNull();
  const alertId = made!.alert.id;
  // Out of the storm window, so the next alert of this test is a new one rather than a repeat of this one.
  await rs.store.run("UPDATE alerts SET last_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", [alertId]);
  const end = Date.now() + 30_000;
  let clip = await clipOf(alertId);
  while (clip?.status !== 'ready' && Date.now() < end) {
    await sleep(300);
    clip = await clipOf(alertId);
  }
  expect(clip?.status).toBe('ready');
  expect(existsSync(fileOf(clip!.path!))).toBe(true);
  return { alertId, clip: clip as ClipRowSeen & { path: string } };
}

beforeAll(async () => {
  bench = await openRecordingBench({ prefix: 'ccc-evidence-', cameras: 1, seed: 37 });
  rs = await bench.start(true);
  const tech1 = await as('tech1');
  cam = await registerSimCamera(tech1, bench.sim.cameras[0]!, {
    name: '证据片段',
    orgUnitId: await firstVillage(tech1),
  });
  const admin = await as('admin');
  const plan = await admin.put('/recording/plans', { cameraId: cam, mode: 'continuous', retentionDays: 7 });
  expect(plan.status, plan.text).toBe(200);
  // Enough recorded for the clip's 4 s before the first alert.
  const end = Date.now() + 60_000;
  while (((await rs.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM recording_segments'))?.n ?? 0) < 3) {
    if (Date.now() > end) throw new Error('nothing recorded');
    await sleep(500);
  }
}, 120_000);

afterAll(async () => {
  await rs?.close().catch(() => undefined);
  const left = bench ? await bench.close() : [];
  expect(left, 'ffmpeg left running').toEqual([]);
});

describe('evidence clips and retention', () => {
  it('a clip is kept while its work order lives, after its alert is gone, and deleted with its file after', async () => {
    const { alertId, clip } = await alertWithClip();
    const county = await as('county');
    const order = await county.post('/orders', { alertId });
    expect(order.status, order.text).toBe(201);
    // The clip follows its alert into the order when the recording module hears of the order (an event).
    const until = Date.now() + 10_000;
    while ((await clipOf(alertId))?.orderId !== order.json.id && Date.now() < until) await sleep(100);
    expect((await clipOf(alertId))?.orderId).toBe(order.json.id);

    // The alert goes (as its own retention would remove it): the open order still holds the clip.
    await rs.store.run('DELETE FROM alerts WHERE id = ?', [alertId]);
    await passes();
    expect((await clipOf(alertId))?.status).toBe('ready');
    expect(existsSync(fileOf(clip.path))).toBe(true);
    // The order still carries it: listed and fetched through the order; not by another township.
    const listed = await county.get(`/recording/orders/${order.json.id}/clips`);
    expect(listed.json).toMatchObject([{ id: clip.id, status: 'ready' }]);
    const mp4 = await fetch(`${rs.server.url}${listed.json[0].url}`, {
      headers: { authorization: `Bearer ${await rs.login('county')}` },
    });
    expect(mp4.status).toBe(200);
    expect((await mp4.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const t2 = await as('township2');
    expect((await t2.get(`/recording/orders/${order.json.id}/clips`)).json).toEqual([]);
    expect((await t2.get(`/recording/clips/${clip.id}.mp4`)).status).toBe(404);

    // The order goes too (closed and archived away): nothing holds the clip, the pass deletes row and file.
    await rs.store.run('DELETE FROM work_orders WHERE id = ?', [order.json.id]);
    await passes();
    expect(await clipOf(alertId)).toBeUndefined();
    expect(existsSync(fileOf(clip.path))).toBe(false);
  }, 60_000);

  it('a clip whose file is already gone does not stop the pass; an unnamed clip file goes at start-up', async () => {
    const a = await alertWithClip();
    const b = await alertWithClip();
    // Held by its alert alone: kept across passes.
    await passes();
    expect(existsSync(fileOf(b.clip.path))).toBe(true);
    unlinkSync(fileOf(a.clip.path));
    await rs.store.run('DELETE FROM alerts WHERE id IN (?, ?)', [a.alertId, b.alertId]);
    await passes();
    expect(await clipOf(a.alertId)).toBeUndefined();
    expect(await clipOf(b.alertId)).toBeUndefined();
    expect(existsSync(fileOf(b.clip.path))).toBe(false);

    // A file no row names (a crash between row and file): the next start removes it.
    const stray = fileOf('clips/alert-999999-cam1.mp4');
    writeFileSync(stray, 'not a clip');
    await rs.close();
    rs = await bench.start(false);
    expect(existsSync(stray)).toBe(false);
  }, 90_000);
});
