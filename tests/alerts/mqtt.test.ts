/**
 * Alerts published over MQTT on the local Mosquitto: a message on a mapped
 * topic becomes an alert (type and level from the mapping unless the message
 * says otherwise), pushed in scope; invalid and oversized messages are
 * dropped and counted, and never stored.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView } from '../../server/src/api/contract.ts';
import { client, listenAs, startTestServer, type TestServer, type TypedSocket } from '../helpers/server.ts';
import { serviceAvailable } from './services.ts';

const URL = 'mqtt://127.0.0.1:1883';
const haveBroker = await serviceAvailable('Mosquitto', '127.0.0.1', 1883);
const base = `ccc-test/${process.pid}-${randomBytes(4).toString('hex')}`;

let t: TestServer;
let pub: MqttClient;
let admin: ReturnType<typeof client>;
const heard: { own: AlertView[]; other: AlertView[] } = { own: [], other: [] };
const sockets: TypedSocket[] = [];

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

describe.skipIf(!haveBroker)('MQTT alert source', () => {
  let village: { lon: number; lat: number };

  beforeAll(async () => {
    t = await startTestServer({
      townships: 2,
      villages: 1,
      cameras: 0,
      overrides: {
        alerts: {
          maxBodyBytes: 1024,
          mqtt: { url: URL, topics: [{ topic: `${base}/+/alarm`, type: 'intrusion', level: 'orange' }] },
        },
      },
    });
    admin = client(t.api, await t.login('admin'));
    const all = t.server.app.repos.orgs.all();
    const township1 = all.find((u) => u.level === 'township')!;
    const ring = (all.find((u) => u.parentId === township1.id)!.boundary as { coordinates: number[][][] })
      .coordinates[0]!;
    village = { lon: (ring[0]![0]! + ring[2]![0]!) / 2, lat: (ring[0]![1]! + ring[2]![1]!) / 2 };
    const own = await listenAs(t, 'township1', 'alert:new');
    const other = await listenAs(t, 'township2', 'alert:new');
    heard.own = own.heard;
    heard.other = other.heard;
    sockets.push(own.socket, other.socket);
    pub = await connectAsync(URL, { clientId: `ccc-test-pub-${process.pid}` });
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await pub?.endAsync();
    await t?.close();
  });

  it('turns a message on a mapped topic into an alert pushed in scope', async () => {
    // The server subscribes asynchronously after connecting: publish until it is heard.
    for (let i = 0; i < 20 && heard.own.length === 0; i++) {
      await pub.publishAsync(`${base}/box1/alarm`, JSON.stringify({ position: village, title: `入侵 ${i}` }), {
        qos: 1,
      });
      await until(() => heard.own.length > 0, 500);
    }
    expect(heard.own[0]).toMatchObject({
      type: 'intrusion',
      level: 'orange',
      source: { kind: 'device_key', id: `mqtt:${base}/+/alarm` },
    });
    await pub.publishAsync(`${base}/box2/alarm`, JSON.stringify({ type: 'fire', level: 'red', position: village }), {
      qos: 1,
    });
    expect(await until(() => heard.own.some((a) => a.type === 'fire'))).toBe(true);
    expect(heard.own.find((a) => a.type === 'fire')!.level).toBe('red');
    expect(heard.other).toEqual([]);
  });

  it('drops malformed, invalid, oversized and unmapped messages without storing them', async () => {
    const before = ((await admin.get('/alerts?since=0')).json.items as AlertView[]).length;
    const dropped = t.server.app.alertMqtt.dropped;
    await pub.publishAsync(`${base}/box1/alarm`, '{not json', { qos: 1 });
    await pub.publishAsync(`${base}/box1/alarm`, JSON.stringify({ position: { lon: 500, lat: 0 } }), { qos: 1 });
    await pub.publishAsync(`${base}/box1/alarm`, JSON.stringify({ level: 'purple', position: village }), { qos: 1 });
    await pub.publishAsync(`${base}/box1/alarm`, JSON.stringify([1, 2]), { qos: 1 });
    await pub.publishAsync(`${base}/box1/alarm`, JSON.stringify({ position: village, description: 'x'.repeat(2000) }), {
      qos: 1,
    });
    await pub.publishAsync(`${base}/box1/other`, JSON.stringify({ position: village }), { qos: 1 });
    expect(await until(() => t.server.app.alertMqtt.dropped >= dropped + 5)).toBe(true);
    // A valid message after them proves the unmapped one had time to arrive, and was ignored.
    await pub.publishAsync(`${base}/box3/alarm`, JSON.stringify({ type: 'crowd', position: village }), { qos: 1 });
    expect(await until(() => heard.own.some((a) => a.type === 'crowd'))).toBe(true);
    expect(t.server.app.alertMqtt.dropped).toBe(dropped + 5);
    expect(((await admin.get('/alerts?since=0')).json.items as AlertView[]).length).toBe(before + 1);
  });
});
