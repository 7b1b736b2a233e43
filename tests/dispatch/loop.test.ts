/**
 * Three-level dispatch over real HTTP and Socket.IO: the closed loop county →
 * township → village with three users, return and re-handle, wrong role or
 * level, evidence uploads, video dispatch to a lower wall, and the events each
 * unit hears. Time is a fake clock the test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderSuperviseEvent, WallPushEvent, WorkOrderView } from '../../server/src/api/contract.ts';
import type { OrgUnit } from '../../server/src/org/repo.ts';
import { client, listenAs, settle, startTestServer, type TestServer, type TypedSocket } from '../helpers/server.ts';

let now = Date.parse('2026-03-02T01:00:00Z');
const clock = { now: () => new Date(now) };
const advanceMinutes = (m: number) => {
  now += m * 60_000;
};

let t: TestServer;
type Api = ReturnType<typeof client>;
let county: Api;
let town1: Api;
let town2: Api;
let village: Api;
let viewer: Api;
let tech: Api;
let root: OrgUnit;
let t1: OrgUnit;
let t2: OrgUnit;
let v1: OrgUnit;
let v1b: OrgUnit;
let v2: OrgUnit;
const sockets: TypedSocket[] = [];
const heard: Record<
  'county' | 't1' | 't2',
  { event: string; order?: WorkOrderView; push?: WallPushEvent; sup?: OrderSuperviseEvent }[]
> = {
  county: [],
  t1: [],
  t2: [],
};

/** Centre of a unit's box boundary. */
const centre = (u: OrgUnit) => {
  const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0]!;
  return { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
};

async function listen(name: keyof typeof heard, user: string) {
  const { socket } = await listenAs(t, user, 'order:new');
  socket.on('order:new', (order) => heard[name].push({ event: 'order:new', order }));
  socket.on('order:updated', (order) => heard[name].push({ event: 'order:updated', order }));
  socket.on('order:supervise', (sup) => heard[name].push({ event: 'order:supervise', sup }));
  socket.on('wall:push', (push) => heard[name].push({ event: 'wall:push', push }));
  sockets.push(socket);
}
const heardOf = (name: keyof typeof heard, orderId: number) =>
  heard[name].filter((h) => h.order?.id === orderId || h.sup?.orderId === orderId);

/** Sessions expire on the same clock the test moves: sign everyone in again after a jump. */
async function relogin() {
  county = client(t.api, await t.login('county'));
  town1 = client(t.api, await t.login('township1'));
  town2 = client(t.api, await t.login('township2'));
  village = client(t.api, await t.login('village1', 'Village@2026'));
  viewer = client(t.api, await t.login('viewer'));
  tech = client(t.api, await t.login('tech1'));
}

beforeAll(async () => {
  t = await startTestServer({ townships: 3, villages: 2, cameras: 24, clock });
  const all = t.server.app.repos.orgs.all();
  root = all.find((u) => u.parentId === null)!;
  const towns = all.filter((u) => u.level === 'township').sort((a, b) => a.id - b.id);
  t1 = towns[0]!;
  t2 = towns[1]!;
  [v1, v1b] = all.filter((u) => u.parentId === t1.id).sort((a, b) => a.id - b.id) as [OrgUnit, OrgUnit];
  v2 = all.find((u) => u.parentId === t2.id)!;
  const admin = client(t.api, await t.login('admin'));
  const mk = await admin.post('/users', {
    username: 'village1',
    displayName: '城关镇一村',
    password: 'Village@2026',
    role: 'township_operator',
    orgUnitId: v1.id,
  });
  expect(mk.status).toBe(201);
  await relogin();
  await listen('county', 'county');
  await listen('t1', 'township1');
  await listen('t2', 'township2');
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

async function reportAlert(level: 'blue' | 'yellow' | 'orange' | 'red', where: OrgUnit, as: Api = county) {
  const r = await as.post('/alerts', { type: 'manual', level, position: centre(where), title: `测试 ${level}` });
  expect(r.status).toBe(201);
  return r.json as { id: number; orgUnitId: number };
}

describe('the closed loop across three levels', () => {
  it('alert → county assigns to the township → sign → reassign to a village → feedback with evidence → township approves → county closes', async () => {
    const alert = await reportAlert('orange', v1);
    expect(alert.orgUnitId).toBe(v1.id);
    const created = await county.post('/orders', { alertId: alert.id });
    expect(created.status).toBe(201);
    const o = created.json as WorkOrderView;
    // 四事分办: orange goes to the township that owns the place.
    expect(o).toMatchObject({ state: 'assigned', assigneeOrgUnitId: t1.id, chain: [root.id, t1.id], level: 'orange' });
    expect(o.signDeadline).toBe(new Date(now + 30 * 60_000).toISOString());
    expect((await county.get(`/alerts/${alert.id}`)).json.status).toBe('dispatched');
    expect((await county.post('/orders', { alertId: alert.id })).status).toBe(409);

    const detail1 = await town1.get(`/orders/${o.id}`);
    expect(detail1.json.actions).toEqual(expect.arrayContaining(['sign', 'return', 'escalate']));
    expect(detail1.json.actions).not.toContain('close');
    expect((await town1.post(`/orders/${o.id}/sign`, { note: '收到' })).json.state).toBe('signed');

    const re = await town1.post(`/orders/${o.id}/reassign`, { targetOrgUnitId: v1.id, note: '请一村处置' });
    expect(re.status).toBe(200);
    expect(re.json).toMatchObject({ state: 'assigned', assigneeOrgUnitId: v1.id, chain: [root.id, t1.id, v1.id] });

    expect((await village.post(`/orders/${o.id}/sign`)).json.state).toBe('signed');
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
    const up = await village.raw('POST', `/orders/${o.id}/attachments`, png, 'image/png');
    expect(up.status).toBe(201);
    const att = (await up.json()) as { id: number; url: string };
    const fb = await village.post(`/orders/${o.id}/feedback`, { note: '已处置完毕', attachmentIds: [att.id] });
    expect(fb.status).toBe(200);
    expect(fb.json).toMatchObject({ state: 'fed_back', attachments: 1 });

    // The township checks its village's work and passes it up; the county closes.
    const approve = await town1.post(`/orders/${o.id}/close`, { note: '核实无误' });
    expect(approve.json).toMatchObject({ state: 'fed_back', assigneeOrgUnitId: t1.id, chain: [root.id, t1.id] });
    const closed = await county.post(`/orders/${o.id}/close`, { note: '办结' });
    expect(closed.json).toMatchObject({ state: 'closed', closedOnTime: true });
    expect((await county.get(`/alerts/${alert.id}`)).json.status).toBe('closed');

    const full = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(full.history!.map((h) => h.action)).toEqual([
      'create',
      'assign',
      'sign',
      'reassign',
      'sign',
      'feedback',
      'approve',
      'close',
    ]);
    const feedback = full.history!.find((h) => h.action === 'feedback')!;
    expect(feedback.actor.displayName).toBe('城关镇一村');
    expect(feedback.attachments.map((a) => a.id)).toEqual([att.id]);
    const file = await fetch(`${t.url}${att.url}`, {
      headers: { authorization: `Bearer ${await t.login('township1')}` },
    });
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);

    await settle(sockets);
    expect(heardOf('t2', o.id)).toEqual([]);
    expect(heardOf('t1', o.id).map((h) => h.order?.state)).toEqual([
      'assigned',
      'signed',
      'assigned',
      'signed',
      'fed_back',
      'fed_back',
      'closed',
    ]);
    expect(heardOf('county', o.id)[0]!.event).toBe('order:new');
  });

  it('return (退回) sends the feedback back to the same unit, which handles it again', async () => {
    const o = (
      await county.post('/orders', {
        title: '占道经营',
        level: 'orange',
        position: centre(v1b),
        cameraIds: [],
      })
    ).json as WorkOrderView;
    expect(o.assigneeOrgUnitId).toBe(t1.id);
    await town1.post(`/orders/${o.id}/sign`);
    await town1.post(`/orders/${o.id}/feedback`, { note: '已劝离' });
    const noNote = await county.post(`/orders/${o.id}/return`, {});
    expect(noNote.status).toBe(400);
    expect(noNote.json.error.fields[0].path).toBe('note');
    const ret = await county.post(`/orders/${o.id}/return`, { note: '请附现场照片' });
    expect(ret.json).toMatchObject({ state: 'signed', assigneeOrgUnitId: t1.id });
    expect((await town1.post(`/orders/${o.id}/feedback`, { note: '已劝离，附照片' })).json.state).toBe('fed_back');
    expect((await county.post(`/orders/${o.id}/close`)).json.state).toBe('closed');
    const actions = ((await town1.get(`/orders/${o.id}`)).json as WorkOrderView).history!.map((h) => h.action);
    expect(actions).toEqual(['create', 'assign', 'sign', 'feedback', 'return', 'feedback', 'close']);
  });

  it('a township reports a matter up (上报); the county verifies and assigns it back down', async () => {
    const o = (
      await town1.post('/orders', { title: '群体性纠纷', level: 'yellow', orgUnitId: v1.id, assignTo: 'report_up' })
    ).json as WorkOrderView;
    expect(o).toMatchObject({ state: 'reported', assigneeOrgUnitId: root.id, chain: [root.id] });
    expect((await town1.post(`/orders/${o.id}/assign`, { targetOrgUnitId: v1.id })).status).toBe(403);
    const a = await county.post(`/orders/${o.id}/assign`, { targetOrgUnitId: t1.id });
    expect(a.json).toMatchObject({ state: 'assigned', chain: [root.id, t1.id] });
  });
});

describe('wrong role, level, state or jurisdiction changes nothing', () => {
  let o: WorkOrderView;
  beforeAll(async () => {
    o = (await county.post('/orders', { title: '井盖缺失', level: 'orange', position: centre(v1) })).json;
  });
  const unchanged = async () => {
    const now = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(now.version).toBe(o.version);
    expect(now.history!.length).toBe(2);
  };

  it('the county cannot sign for the township, nor the township close its own work', async () => {
    const r = await county.post(`/orders/${o.id}/sign`);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('wrong_level');
    expect((await town1.post(`/orders/${o.id}/close`)).status).toBe(409);
    expect((await village.post(`/orders/${o.id}/sign`)).status).toBe(403);
    await unchanged();
  });

  it('viewers and technicians may look but not act; another township does not see it at all', async () => {
    expect((await viewer.get(`/orders/${o.id}`)).status).toBe(200);
    expect((await viewer.post(`/orders/${o.id}/sign`)).status).toBe(403);
    expect((await tech.post(`/orders/${o.id}/sign`)).status).toBe(403);
    expect((await town2.get(`/orders/${o.id}`)).status).toBe(404);
    expect((await town2.post(`/orders/${o.id}/sign`)).status).toBe(404);
    expect((await town2.get(`/orders`)).json.items.map((x: WorkOrderView) => x.id)).not.toContain(o.id);
    await unchanged();
  });

  it('a target outside the place, a stale version and bad bodies are 4xx naming the field', async () => {
    await town1.post(`/orders/${o.id}/sign`);
    o = (await county.get(`/orders/${o.id}`)).json;
    const wrongPlace = await town1.post(`/orders/${o.id}/reassign`, { targetOrgUnitId: v1b.id });
    expect(wrongPlace.status).toBe(400);
    expect(wrongPlace.json.error.fields[0].path).toBe('targetOrgUnitId');
    const otherTown = await town1.post(`/orders/${o.id}/reassign`, { targetOrgUnitId: v2.id });
    expect(otherTown.status).toBe(400);
    const stale = await town1.post(`/orders/${o.id}/feedback`, { note: 'x', version: o.version - 1 });
    expect(stale.status).toBe(409);
    const junk = await town1.post(`/orders/${o.id}/feedback`, { note: 1, extra: true, attachmentIds: ['a'] });
    expect(junk.status).toBe(400);
    expect(junk.json.error.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['note', 'extra', 'attachmentIds.0']),
    );
    const foreign = await town1.post(`/orders/${o.id}/feedback`, { note: 'x', attachmentIds: [999999] });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error.fields[0].path).toBe('attachmentIds.0');
    const after = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(after.version).toBe(o.version);
    expect(after.state).toBe('signed');
  });

  it('attachments: non-images, wrong types and oversize bodies are refused', async () => {
    const fakeJpeg = await town1.raw('POST', `/orders/${o.id}/attachments`, Buffer.from('GIF89a....'), 'image/jpeg');
    expect(fakeJpeg.status).toBe(400);
    const gif = await town1.raw('POST', `/orders/${o.id}/attachments`, Buffer.from('GIF89a....'), 'image/gif');
    expect(gif.status).toBe(415);
    const big = Buffer.alloc(5 * 1024 * 1024, 0xff);
    const tooBig = await town1.raw('POST', `/orders/${o.id}/attachments`, big, 'image/jpeg');
    expect(tooBig.status).toBe(413);
    const body = (await tooBig.json()) as { error: { fields: { path: string }[] } };
    expect(body.error.fields[0]!.path).toBe('body');
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    expect((await town2.raw('POST', `/orders/${o.id}/attachments`, jpeg, 'image/jpeg')).status).toBe(404);
    expect((await viewer.raw('POST', `/orders/${o.id}/attachments`, jpeg, 'image/jpeg')).status).toBe(403);
    expect(
      (await t.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM work_order_attachments WHERE order_id = ?', [o.id]))!
        .n,
    ).toBe(0);
  });

  it('closed orders take no more steps; bad create bodies name their fields', async () => {
    await town1.post(`/orders/${o.id}/feedback`, { note: '处置完' });
    await county.post(`/orders/${o.id}/close`);
    for (const a of ['sign', 'feedback', 'return', 'escalate', 'close']) {
      const r = await county.post(`/orders/${o.id}/${a}`, { note: 'x' });
      expect(r.status).toBe(409);
    }
    const bad = await county.post('/orders', { title: '', level: 'pink', position: { lon: 500, lat: 0 }, x: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['title', 'level', 'position.lon', 'x']),
    );
    const foreign = await town1.post('/orders', { title: '越权', level: 'blue', orgUnitId: v2.id });
    expect(foreign.status).toBe(403);
    const foreignCamera = await town1.post('/orders', {
      title: 'x',
      level: 'blue',
      orgUnitId: v1.id,
      cameraIds: [1e9],
    });
    expect(foreignCamera.status).toBe(400);
    expect(foreignCamera.json.error.fields[0].path).toBe('cameraIds.0');
  });
});

describe('deadlines, supervision (督办) and automatic escalation on a fake clock', () => {
  it('an unsigned village order is supervised to the village and its township, then moves up to the township', async () => {
    // Yellow matters go to the village (四事分办); the county assigns it straight there.
    const o = (await county.post('/orders', { title: '垃圾堆放', level: 'yellow', position: centre(v1) }))
      .json as WorkOrderView;
    expect(o).toMatchObject({ state: 'assigned', assigneeOrgUnitId: v1.id, chain: [root.id, v1.id] });
    expect(await t.server.app.dispatch.tick()).toEqual({ supervised: 0, escalated: 0 });
    advanceMinutes(61);
    const first = await t.server.app.dispatch.tick();
    expect(first.supervised).toBeGreaterThanOrEqual(1);
    let now1 = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(now1).toMatchObject({ overdue: true, superviseCount: 1, state: 'assigned' });
    await settle(sockets);
    const sup = heard.t1.filter((h) => h.sup?.orderId === o.id);
    expect(sup).toHaveLength(1);
    expect(sup[0]!.sup).toMatchObject({ kind: 'sign', assigneeOrgUnitId: v1.id, count: 1 });
    // The county is not the parent of the village: it sees the order change but gets no notice.
    expect(heard.county.filter((h) => h.sup?.orderId === o.id)).toHaveLength(0);
    expect(heard.t2.filter((h) => h.sup?.orderId === o.id || h.order?.id === o.id)).toHaveLength(0);
    // Nothing more until the repeat interval.
    advanceMinutes(30);
    await t.server.app.dispatch.tick();
    expect(((await county.get(`/orders/${o.id}`)).json as WorkOrderView).superviseCount).toBe(1);
    advanceMinutes(31);
    await t.server.app.dispatch.tick();
    expect(((await county.get(`/orders/${o.id}`)).json as WorkOrderView).superviseCount).toBe(2);
    advanceMinutes(61);
    await t.server.app.dispatch.tick();
    now1 = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    // Up one level of the tree: the township the assignment skipped now has it and must sign.
    expect(now1).toMatchObject({
      state: 'assigned',
      assigneeOrgUnitId: t1.id,
      chain: [root.id, t1.id],
      escalations: 1,
      overdue: false,
    });
    expect(now1.history!.map((h) => h.action)).toEqual(['create', 'assign', 'supervise', 'supervise', 'escalate']);
    expect(now1.history![4]!.actor.displayName).toBe('系统督办');
    // Signing in time stops the clock on signing; the handling deadline runs.
    await town1.post(`/orders/${o.id}/sign`);
    advanceMinutes(60 * 23);
    await t.server.app.dispatch.tick();
    await relogin();
    expect(((await county.get(`/orders/${o.id}`)).json as WorkOrderView).superviseCount).toBe(2);
    advanceMinutes(61);
    await t.server.app.dispatch.tick();
    await relogin();
    const late = (await county.get(`/orders/${o.id}`)).json as WorkOrderView;
    expect(late).toMatchObject({ overdue: true, superviseCount: 3 });
    await town1.post(`/orders/${o.id}/feedback`, { note: '清理完毕' });
    const closed = (await county.post(`/orders/${o.id}/close`)).json as WorkOrderView;
    expect(closed.closedOnTime).toBe(false);
  });
});

describe('video dispatch (视频调度)', () => {
  it('the county pushes a township camera to that township wall at once; nobody else hears it; every push is audited', async () => {
    const cams = (await town1.get('/cameras?limit=5')).json.items as { id: number }[];
    expect(cams.length).toBeGreaterThan(1);
    const r = await county.post('/wall-pushes', {
      targetOrgUnitId: t1.id,
      cameraIds: [cams[0]!.id, cams[1]!.id],
      note: '请关注该路口',
    });
    expect(r.status).toBe(201);
    await settle(sockets);
    const got = heard.t1.filter((h) => h.event === 'wall:push');
    expect(got).toHaveLength(1);
    expect(got[0]!.push).toMatchObject({
      cameraIds: [cams[0]!.id, cams[1]!.id],
      from: { orgUnitId: root.id },
      note: '请关注该路口',
    });
    expect(heard.t2.filter((h) => h.event === 'wall:push')).toHaveLength(0);
    expect(heard.county.filter((h) => h.event === 'wall:push')).toHaveLength(0);
    const layout = await county.post('/wall-pushes', {
      targetOrgUnitId: t1.id,
      layout: { grid: '4', tiles: [cams[0]!.id, null, null, cams[1]!.id], tour: null },
    });
    expect(layout.status).toBe(201);
    // To one named screen of the township: only that unit's own screens qualify.
    const screen = await town1.post('/walls', { name: '城关镇大屏1' });
    expect(screen.status).toBe(201);
    const toScreen = await county.post('/wall-pushes', {
      targetOrgUnitId: t1.id,
      screenId: screen.json.id,
      cameraIds: [cams[0]!.id],
    });
    expect(toScreen.status).toBe(201);
    await settle(sockets);
    expect(heard.t1.filter((h) => h.event === 'wall:push').at(-1)!.push!.screenId).toBe(screen.json.id);
    const countyScreen = await county.post('/walls', { name: '县大屏' });
    const wrongScreen = await county.post('/wall-pushes', {
      targetOrgUnitId: t1.id,
      screenId: countyScreen.json.id,
      cameraIds: [cams[0]!.id],
    });
    expect(wrongScreen.status).toBe(400);
    expect(wrongScreen.json.error.fields[0].path).toBe('screenId');
    const audit = (await client(t.api, await t.login('admin')).get('/audit?action=wall.push')).json;
    expect(JSON.stringify(audit)).toContain('wall.push');
  });

  it('refuses pushes upward, sideways, of cameras the target may not play, and malformed layouts', async () => {
    const camsT2 = (await town2.get('/cameras?limit=1')).json.items as { id: number }[];
    const up = await town1.post('/wall-pushes', { targetOrgUnitId: root.id, cameraIds: [1] });
    expect(up.status).toBe(403);
    const sideways = await town1.post('/wall-pushes', { targetOrgUnitId: t2.id, cameraIds: [camsT2[0]!.id] });
    expect(sideways.status).toBe(403);
    const self = await town1.post('/wall-pushes', { targetOrgUnitId: t1.id, cameraIds: [camsT2[0]!.id] });
    expect(self.status).toBe(400);
    const foreign = await county.post('/wall-pushes', { targetOrgUnitId: t1.id, cameraIds: [camsT2[0]!.id] });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error.fields[0].path).toBe('cameraIds.0');
    const badLayout = await county.post('/wall-pushes', {
      targetOrgUnitId: t1.id,
      layout: { grid: '4', tiles: [null], tour: { cameraIds: [], intervalSec: 1 } },
    });
    expect(badLayout.status).toBe(400);
    expect(badLayout.json.error.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['layout.tiles', 'layout.tour.cameraIds', 'layout.tour.intervalSec']),
    );
    expect((await viewer.post('/wall-pushes', { targetOrgUnitId: t1.id, cameraIds: [1] })).status).toBe(403);
  });
});
