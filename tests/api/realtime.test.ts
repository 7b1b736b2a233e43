/** Socket.IO over real sockets: session auth and jurisdiction-scoped registry events. */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/src/api/contract.ts';
import { client, startTestServer, type TestServer } from '../helpers/server.ts';

type S = Socket<ServerToClientEvents, ClientToServerEvents>;
let t: TestServer;
const sockets: S[] = [];

const connect = (token: string | undefined): Promise<S> =>
  new Promise((resolve, reject) => {
    const s: S = io(t.url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => reject(err));
  });

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await t?.close();
});

describe('realtime', () => {
  it('refuses a socket without a valid session', async () => {
    await expect(connect(undefined)).rejects.toThrow(/unauthorized/);
    await expect(connect('x'.repeat(43))).rejects.toThrow(/unauthorized/);
  });

  it('answers whoami with a typed acknowledgement', async () => {
    const s = await connect(await t.login('township1'));
    const reply = await new Promise<Parameters<Parameters<ClientToServerEvents['session:whoami']>[0]>[0]>((resolve) =>
      s.emit('session:whoami', resolve),
    );
    expect(reply.ok && reply.data.username).toBe('township1');
  });

  it('delivers a point change to the county and its township, never to another township', async () => {
    const county = await connect(await t.login('county'));
    const own = await connect(await t.login('township1'));
    const other = await connect(await t.login('township2'));
    const heardByOther: unknown[] = [];
    other.on('camera:changed', (e) => heardByOther.push(e));
    other.on('registry:imported', (e) => heardByOther.push(e));

    const tech = client(t.api, await t.login('tech1'));
    const village = ((await tech.get('/org-units')).json as { id: number; level: string }[]).find(
      (o) => o.level === 'village',
    )!.id;
    const gotCounty = new Promise<Parameters<ServerToClientEvents['camera:changed']>[0]>((r) =>
      county.once('camera:changed', r),
    );
    const gotOwn = new Promise<Parameters<ServerToClientEvents['camera:changed']>[0]>((r) =>
      own.once('camera:changed', r),
    );
    const created = await tech.post('/cameras', {
      name: '实时测试点位',
      networkId: 'xueliang',
      orgUnitId: village,
      position: { lon: 118.7, lat: 31 },
      credentials: { username: 'u', password: 'never-sent' },
    });
    expect(created.status).toBe(201);
    const [a, b] = await Promise.all([gotCounty, gotOwn]);
    expect(a).toMatchObject({ kind: 'created', id: created.json.id });
    expect(b.camera?.name).toBe('实时测试点位');
    expect(JSON.stringify(b)).not.toContain('never-sent');

    // An import in township 1 is heard there too.
    const importHeard = new Promise((r) => own.once('registry:imported', r));
    const csv = `name,network,org_unit,lon,lat\n实时导入,xueliang,349901001001,118.7,31\n`;
    expect((await tech.raw('POST', '/cameras/import', csv, 'text/csv')).status).toBe(201);
    await importHeard;

    // Township 2 is a socket on the same server: had anything been sent to it, it
    // would have arrived before this round trip on its own connection completes.
    await new Promise((r) => other.emit('session:whoami', r));
    expect(heardByOther).toEqual([]);
  });
});
