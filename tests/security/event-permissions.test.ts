/**
 * Issue 11, hole 4: pushes ignored role permissions (technicians heard work
 * orders, operators and kiosks heard discovery scans with device addresses,
 * every township heard the county-wide import count). This walks every
 * server → client event × every role (and a kiosk screen), with the expected
 * receivers written out here by hand — not derived from the table the server
 * uses — so a wrong grant in either place fails.
 */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import {
  EVENT_PERMISSIONS,
  type AlertView,
  type ServerToClientEvents,
  type WallScreenView,
  type WorkOrderView,
} from '../../server/src/api/contract.ts';
import type { DomainEvents } from '../../server/src/events.ts';
import { WHOLE_REGISTRY } from '../../server/src/org/scope.ts';
import { client, settle, startTestServer, type TestServer, type TypedSocket } from '../helpers/server.ts';

type Who = 'admin' | 'county' | 'tech' | 'viewer' | 'township1' | 'tech1' | 'township2' | 'kiosk1';
const EVERYONE: Who[] = ['admin', 'county', 'tech', 'viewer', 'township1', 'tech1', 'township2', 'kiosk1'];
/** Everyone whose jurisdiction holds a place in township 1 and who reads that kind of thing. */
const READERS_OF_T1: Who[] = ['admin', 'county', 'tech', 'viewer', 'township1', 'tech1', 'kiosk1'];

/**
 * Events about the receiver's own connection carry no jurisdiction's data: `session:ended` (its session) and
 * `realtime:resync` (a cursor value after a fan-out outage, sent to every socket; tests/alerts/cluster.test.ts).
 */
type Unscoped = 'session:ended' | 'realtime:resync';
type Scoped = Exclude<keyof ServerToClientEvents, Unscoped>;

/** Who must hear each event when it concerns township 1 (a village of it, or the township itself). */
const EXPECTED: Record<Scoped, Who[]> = {
  'camera:changed': READERS_OF_T1,
  'registry:imported': READERS_OF_T1,
  'camera:status': READERS_OF_T1,
  'stream:state': READERS_OF_T1,
  'alert:new': READERS_OF_T1,
  'alert:updated': READERS_OF_T1,
  // Discovery is a technician's tool (admin has no discovery.scan either).
  'scan:progress': ['tech', 'tech1'],
  'scan:device': ['tech', 'tech1'],
  // Work orders: dispatch roles and the leaders' view; never technicians.
  'order:new': ['admin', 'county', 'viewer', 'township1', 'kiosk1'],
  'order:updated': ['admin', 'county', 'viewer', 'township1', 'kiosk1'],
  // 督办 goes to the listed units only (here township 1 itself).
  'order:supervise': ['township1', 'kiosk1'],
  // 视频调度 goes to the target unit's own screens only.
  'wall:push': ['township1', 'tech1', 'kiosk1'],
  'wall:updated': READERS_OF_T1,
  // 视频质量诊断 (issue 16): every role reads picture quality in its own jurisdiction, kiosks included.
  'quality:changed': READERS_OF_T1,
};

let t: TestServer;
/** The real scan's address: a block of this run's own, where no demo or other run answers (issue 12). */
let silent: LoopbackBlock | undefined;
const sockets = new Map<Who, TypedSocket>();
const heard = new Map<Who, { event: string; payload: unknown }[]>();
let township1: { id: number; path: string };
let village1: { id: number; path: string };

beforeAll(async () => {
  t = await startTestServer();
  const admin = client(t.api, await t.login('admin'));
  const units = (await admin.get('/org-units')).json as {
    id: number;
    level: string;
    parentId: number | null;
    path: string;
  }[];
  const me1 = (await client(t.api, await t.login('township1')).get('/auth/me')).json;
  // The API does not show paths; the repository does.
  const withPath = (id: number) => ({ id, path: t.server.app.repos.orgs.byId(id)!.path });
  township1 = withPath(me1.orgUnitId as number);
  village1 = withPath(units.find((u) => u.parentId === township1.id)!.id);
  // A kiosk screen of township 1.
  const t1 = client(t.api, await t.login('township1'));
  const screen = (await t1.post('/walls', { name: '权限测试屏' })).json;
  const issued = (await t1.post(`/walls/${screen.id}/kiosk-token`)).json;
  const kioskToken = (await client(t.api).post('/walls/kiosk', { token: issued.token })).json.token as string;

  for (const who of EVERYONE) {
    const token = who === 'kiosk1' ? kioskToken : await t.login(who);
    const s: TypedSocket = io(t.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    const log: { event: string; payload: unknown }[] = [];
    s.onAny((event: string, payload: unknown) => log.push({ event, payload }));
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    sockets.set(who, s);
    heard.set(who, log);
  }
});
afterAll(async () => {
  for (const s of sockets.values()) s.close();
  await t?.close();
  await silent?.release();
});

const emit = <K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]) => t.server.app.bus.emit(name, payload);
/** Payloads the realtime layer only passes through: a marker is enough to see who got it. */
const marker = <T>(what: string) => ({ marker: what }) as unknown as T;

/** One bus event per socket event, placed in township 1. The record type makes a new event fail to compile here. */
const TRIGGERS: Record<Scoped, () => void | Promise<void>> = {
  'camera:changed': async () => {
    const camera = (await t.server.app.repos.cameras.search(WHOLE_REGISTRY, { orgPath: village1.path }, 0, 1)).rows.at(
      0,
    );
    if (!camera) throw new Error('no camera in village 1');
    emit('camera.changed', { kind: 'updated', camera });
  },
  'registry:imported': () =>
    emit('camera.imported', { created: 3, orgUnitIds: [village1.id], perPath: [{ path: village1.path, created: 3 }] }),
  'camera:status': () =>
    emit('camera.status', {
      id: 1,
      orgPath: village1.path,
      from: 'online',
      to: 'offline',
      reason: 'test',
      at: new Date().toISOString(),
      lastSeenAt: null,
    }),
  'stream:state': () =>
    emit('stream.state', {
      orgPath: village1.path,
      event: {
        cameraId: 1,
        quality: 'sub',
        state: 'live',
        reason: null,
        viewers: 1,
        bitrateKbps: null,
        fps: null,
        restarts: 0,
      },
    }),
  'alert:new': () => emit('alert.changed', { kind: 'new', orgPath: village1.path, alert: marker<AlertView>('a') }),
  'alert:updated': () =>
    emit('alert.changed', { kind: 'updated', orgPath: village1.path, alert: marker<AlertView>('a') }),
  'scan:progress': () =>
    emit('scan.progress', {
      scan: {
        id: 1,
        orgUnitId: township1.id,
        orgPath: township1.path,
        createdBy: null,
        createdByName: null,
        mode: 'unicast',
        target: '127.0.9.0/30',
        status: 'running',
        total: 4,
        probed: 1,
        found: 0,
        interrogated: 0,
        error: null,
        startedAt: new Date().toISOString(),
        finishedAt: null,
      },
    }),
  'scan:device': () =>
    emit('scan.device', {
      orgPath: township1.path,
      device: {
        id: 1,
        scanId: 1,
        endpoint: null,
        xaddr: 'http://127.0.9.1/onvif/device_service',
        host: '127.0.9.1',
        status: 'new',
        reason: null,
        manufacturer: 'M',
        model: 'X',
        firmware: null,
        serial: 'SN-SECRET',
        mac: '00:11:22:33:44:55',
        profiles: [],
        mainStreamUri: 'rtsp://127.0.9.1/main',
        subStreamUri: null,
        snapshotUri: null,
        ptz: false,
        clockOffsetMs: null,
        credentialsSealed: null,
        cameraId: null,
      },
    }),
  'order:new': () => emit('order.changed', { kind: 'new', orgPath: village1.path, order: marker<WorkOrderView>('o') }),
  'order:updated': () =>
    emit('order.changed', { kind: 'updated', orgPath: village1.path, order: marker<WorkOrderView>('o') }),
  'order:supervise': () =>
    emit('order.supervise', {
      unitIds: [township1.id],
      event: {
        orderId: 1,
        title: '督办',
        assigneeOrgUnitId: township1.id,
        kind: 'handle',
        deadline: new Date().toISOString(),
        count: 1,
        at: new Date().toISOString(),
      },
    }),
  'wall:push': () =>
    emit('wall.push', {
      event: {
        id: 1,
        targetOrgUnitId: township1.id,
        screenId: null,
        cameraIds: [],
        layout: null,
        from: { userId: 1, displayName: 'x', orgUnitId: township1.id, orgName: 'x' },
        orderId: null,
        note: null,
        at: new Date().toISOString(),
      },
    }),
  'wall:updated': () => emit('wall.changed', { orgPath: township1.path, screen: marker<WallScreenView>('w') }),
  'quality:changed': () =>
    emit('quality.changed', {
      orgPath: village1.path,
      event: {
        cameraId: 1,
        orgUnitId: village1.id,
        quality: 'faulty',
        kinds: ['occlusion'],
        reason: null,
        at: new Date().toISOString(),
      },
    }),
};

describe('every event × every role', () => {
  it('declares a permission for every server event in the contract', () => {
    for (const event of Object.keys(TRIGGERS)) expect(EVENT_PERMISSIONS[event as Scoped]).toBeTruthy();
    expect(Object.keys(EVENT_PERMISSIONS).sort()).toEqual(
      [...Object.keys(TRIGGERS), 'session:ended', 'realtime:resync'].sort(),
    );
  });

  for (const event of Object.keys(EXPECTED) as Scoped[]) {
    it(`${event} reaches exactly ${EXPECTED[event].join(', ')}`, async () => {
      for (const log of heard.values()) log.length = 0;
      await TRIGGERS[event]();
      await settle([...sockets.values()]);
      const got = EVERYONE.filter((who) => heard.get(who)!.some((h) => h.event === event));
      expect(got).toEqual(EXPECTED[event]);
    });
  }

  it('tells each unit only the import count inside its own subtree', async () => {
    const other = (await client(t.api, await t.login('township2')).get('/auth/me')).json.orgUnitId as number;
    const units = (await client(t.api, await t.login('admin')).get('/org-units')).json as {
      id: number;
      parentId: number | null;
      path: string;
    }[];
    const v2 = units.find((u) => u.parentId === other)!.id;
    const village2 = { id: v2, path: t.server.app.repos.orgs.byId(v2)!.path };
    for (const log of heard.values()) log.length = 0;
    emit('camera.imported', {
      created: 7,
      orgUnitIds: [village1.id, village2.id],
      perPath: [
        { path: village1.path, created: 2 },
        { path: village2.path, created: 5 },
      ],
    });
    await settle([...sockets.values()]);
    const of = (who: Who) => heard.get(who)!.find((h) => h.event === 'registry:imported')?.payload;
    expect(of('county')).toEqual({ created: 7, orgUnitIds: [village1.id, village2.id] });
    expect(of('township1')).toEqual({ created: 2, orgUnitIds: [village1.id] });
    expect(of('township2')).toEqual({ created: 5, orgUnitIds: [village2.id] });
  });

  it('a real work order is not pushed to a technician, a real scan not to an operator', async () => {
    for (const log of heard.values()) log.length = 0;
    const t1 = client(t.api, await t.login('township1'));
    const order = await t1.post('/orders', {
      title: '推送权限测试',
      description: '技术员不应收到',
      level: 'yellow',
      orgUnitId: village1.id,
    });
    expect(order.status).toBe(201);
    silent = await claimLoopbackBlock();
    const scan = await client(t.api, await t.login('tech1')).post('/discovery/scans', {
      mode: 'unicast',
      ranges: [silent.host(8)],
      httpPorts: [9],
    });
    expect(scan.status).toBeLessThan(300);
    await expect.poll(() => heard.get('tech1')!.filter((h) => h.event === 'scan:progress').length).toBeGreaterThan(0);
    await settle([...sockets.values()]);
    const events = (who: Who) => new Set(heard.get(who)!.map((h) => h.event));
    expect(events('township1').has('order:new')).toBe(true);
    expect(events('county').has('order:new')).toBe(true);
    expect(events('tech1').has('order:new')).toBe(false);
    expect(events('tech').has('order:new')).toBe(false);
    for (const who of ['township1', 'county', 'viewer', 'kiosk1', 'admin'] as Who[])
      expect(events(who).has('scan:progress')).toBe(false);
  });
});
