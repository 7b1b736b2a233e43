/**
 * The simulator seen from outside, over real loopback sockets: the `onvif` library, ffprobe/ffmpeg,
 * raw SOAP, raw RTSP and WS-Discovery clients, every fault mode, and hostile input.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';
import { nalType } from './h264.ts';
import { defaultCameraSpecs, measureResources, startSimulator, type SimCameraInfo, type Simulator } from './index.ts';
import { RawRtsp, run, sleep, soap, unicastProbe } from './test-support.ts';

interface OnvifCam {
  getDeviceInformation(cb: (err: Error | null, info: any) => void): void;
  getProfiles(cb: (err: Error | null, profiles: any[]) => void): void;
  getStreamUri(o: { protocol: string; profileToken?: string }, cb: (err: Error | null, r: any) => void): void;
  getSnapshotUri(o: { profileToken?: string }, cb: (err: Error | null, r: any) => void): void;
  getPresets(o: object, cb: (err: Error | null, r: any) => void): void;
  continuousMove(o: object, cb: (err: Error | null) => void): void;
  stop(o: object, cb: (err: Error | null) => void): void;
  getStatus(o: object, cb: (err: Error | null, r: any) => void): void;
  gotoPreset(o: object, cb: (err: Error | null) => void): void;
  profiles: any[];
  activeSource: any;
}
const { Cam } = createRequire(import.meta.url)('onvif') as {
  Cam: new (o: object, cb: (this: OnvifCam, err: Error | null) => void) => OnvifCam;
};

function connect(c: SimCameraInfo, password = c.password): Promise<OnvifCam> {
  return new Promise((resolve, reject) => {
    new Cam({ hostname: c.host, port: c.onvifPort, username: c.username, password, timeout: 8000 }, function (
      this: OnvifCam,
      err,
    ) {
      if (err) reject(err);
      else resolve(this);
    });
  });
}

const call = <T>(fn: (cb: (err: Error | null, r: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, r) => (err ? reject(err) : resolve(r))));

const FFPROBE = '/usr/bin/ffprobe';
const FFMPEG = '/usr/bin/ffmpeg';
/** The cameras' addresses: a block of this run's own (issue 12), claimed before the simulator starts. */
let block: LoopbackBlock;
const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-clips-'));
let sim: Simulator;
let fixed: SimCameraInfo;
let ptz: SimCameraInfo;
let skewed: SimCameraInfo;
let spare: SimCameraInfo;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  const specs = defaultCameraSpecs(12, { firstIp: block.host(1) });
  sim = await startSimulator({
    cameras: specs,
    onvifPort: 0,
    rtspPort: 0,
    discoveryPort: 0,
    clipDir,
    clipSeconds: 2,
    streamOverrides: {
      main: { width: 320, height: 180, bitrateKbps: 400 },
      sub: { width: 160, height: 90, bitrateKbps: 150 },
    },
    log: () => undefined,
  });
  const plain = sim.cameras.filter((c) => !c.ptz && c.clockOffsetSec === 0);
  fixed = plain[0]!;
  spare = plain[1]!;
  ptz = sim.cameras.find((c) => c.ptz && c.clockOffsetSec === 0)!;
  skewed = sim.cameras.find((c) => c.clockOffsetSec === 3600)!;
  expect([fixed, spare, ptz, skewed].every(Boolean)).toBe(true);
});

afterAll(async () => {
  await sim?.stop();
  await block?.release();
  rmSync(clipDir, { recursive: true, force: true });
});

describe('ONVIF as the onvif library sees it', () => {
  it('connects with the camera credentials, lists two profiles, gets stream and snapshot URIs', async () => {
    const cam = await connect(fixed);
    const info = await call<any>((cb) => cam.getDeviceInformation(cb));
    expect(info.manufacturer).toBe(fixed.manufacturer);
    expect(info.model).toBe(fixed.model);
    expect(info.serialNumber).toBe(fixed.serial);
    expect(cam.profiles).toHaveLength(2);
    expect(cam.profiles[0].videoEncoderConfiguration.resolution).toEqual({ width: 320, height: 180 });
    expect(cam.profiles[1].videoEncoderConfiguration.resolution).toEqual({ width: 160, height: 90 });
    const main = await call<any>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_1' }, cb));
    const sub = await call<any>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_2' }, cb));
    expect(main.uri).toBe(fixed.mainStreamUri);
    expect(sub.uri).toBe(fixed.subStreamUri);
    expect(main.uri).toMatch(/\/Streaming\/Channels\/101$/);
    const snap = await call<any>((cb) => cam.getSnapshotUri({}, cb));
    expect(snap.uri).toBe(fixed.snapshotUri);
    const jpeg = Buffer.from(await (await fetch(snap.uri)).arrayBuffer());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
  });

  it('compensates for a camera an hour fast: the library connects, a naive client is refused', async () => {
    const cam = await connect(skewed);
    expect(cam.profiles).toHaveLength(2);
    const body = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>';
    const naive = await soap(skewed.deviceServiceUrl, body, { username: 'admin', password: skewed.password });
    expect(naive.status).toBe(400);
    expect(naive.text).toContain('ter:NotAuthorized');
    const compensated = await soap(skewed.deviceServiceUrl, body, {
      username: 'admin',
      password: skewed.password,
      createdMs: Date.now() + 3600_000,
    });
    expect(compensated.status).toBe(200);
    expect(compensated.text).toContain(`<tds:SerialNumber>${skewed.serial}</tds:SerialNumber>`);
    // The device's own clock, unauthenticated, is what a client compensates with.
    const t = await soap(
      skewed.deviceServiceUrl,
      '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
    );
    const hour = Number(/<tt:UTCDateTime><tt:Time><tt:Hour>(\d+)</.exec(t.text)?.[1]);
    expect(hour).toBe(new Date(Date.now() + 3600_000).getUTCHours());
  });

  it('moves a PTZ dome and reports its presets and position', async () => {
    const cam = await connect(ptz);
    const presets = await call<any>((cb) => cam.getPresets({}, cb));
    expect(Object.keys(presets)).toContain('路口北向');
    const before = await call<any>((cb) => cam.getStatus({}, cb));
    await call<void>((cb) => cam.continuousMove({ x: 0.8, y: 0, zoom: 0 }, cb));
    await sleep(400);
    const moving = await call<any>((cb) => cam.getStatus({}, cb));
    expect(moving.moveStatus.panTilt).toBe('MOVING');
    await call<void>((cb) => cam.stop({}, cb));
    const after = await call<any>((cb) => cam.getStatus({}, cb));
    expect(after.position.x).not.toBe(before.position.x);
    expect(after.moveStatus.panTilt).toBe('IDLE');
    await call<void>((cb) => cam.gotoPreset({ preset: '4' }, cb));
    const there = await call<any>((cb) => cam.getStatus({}, cb));
    expect(there.position).toEqual({ x: -0.5, y: 0.3, zoom: 0.6 });
  });
});

describe('ONVIF SOAP details', () => {
  const auth = () => ({ username: 'admin', password: fixed.password });

  it('answers PTZ requests on a fixed camera and unknown operations with SOAP faults', async () => {
    const r = await soap(
      fixed.deviceServiceUrl.replace('device_service', 'ptz_service'),
      '<GetStatus xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken></GetStatus>',
      auth(),
    );
    expect(r.status).toBe(500);
    expect(r.text).toContain('ter:ActionNotSupported');
    const u = await soap(
      fixed.deviceServiceUrl,
      '<FlyToTheMoon xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
      auth(),
    );
    expect(u.text).toMatch(/<env:Fault>.*ter:ActionNotSupported/);
    const services = await soap(
      fixed.deviceServiceUrl,
      '<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"><IncludeCapability>false</IncludeCapability></GetServices>',
    );
    expect(services.text).toContain('<tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>');
    expect(services.text).not.toContain('<tds:Namespace>http://www.onvif.org/ver20/ptz/wsdl</tds:Namespace>');
  });

  it('refuses protected operations without a token, with a wrong one, and a replayed one', async () => {
    const body = '<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>';
    const none = await soap(fixed.mediaServiceUrl, body);
    expect(none.status).toBe(400);
    expect(none.text).toContain('ter:NotAuthorized');
    const wrong = await soap(fixed.mediaServiceUrl, body, { username: 'admin', password: 'admin12345' });
    expect(wrong.status).toBe(400);
    const ok = await soap(fixed.mediaServiceUrl, body, auth());
    expect(ok.status).toBe(200);
    const replay = await soap(fixed.mediaServiceUrl, body, { securityHeader: ok.securityHeader });
    expect(replay.status).toBe(400);
    const basic = (pw: string) => `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`;
    expect((await soap(fixed.mediaServiceUrl, body, { authorization: basic(fixed.password) })).status).toBe(200);
    expect((await soap(fixed.mediaServiceUrl, body, { authorization: basic('12345') })).status).toBe(400);
  });

  it('speaks SOAP 1.1 to a SOAP 1.1 client', async () => {
    const r = await soap(
      fixed.deviceServiceUrl,
      '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
      {
        version: '1.1',
      },
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain('http://schemas.xmlsoap.org/soap/envelope/');
  });

  it('reports the MAC address and GB/T 28181 code', async () => {
    const n = await soap(
      fixed.deviceServiceUrl,
      '<GetNetworkInterfaces xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
      auth(),
    );
    expect(n.text).toContain(`<tt:HwAddress>${fixed.mac}</tt:HwAddress>`);
    const s = await soap(fixed.deviceServiceUrl, '<GetScopes xmlns="http://www.onvif.org/ver10/device/wsdl"/>', auth());
    expect(s.text).toContain(`onvif://www.onvif.org/name/${fixed.code}`);
  });

  it('delivers motion and tamper events to a pull-point subscription', async () => {
    const created = await soap(
      fixed.eventsServiceUrl,
      '<CreatePullPointSubscription xmlns="http://www.onvif.org/ver10/events/wsdl"><InitialTerminationTime>PT60S</InitialTerminationTime></CreatePullPointSubscription>',
      auth(),
    );
    expect(created.status).toBe(200);
    const address = /<wsa:Address>([^<]+)<\/wsa:Address>/.exec(created.text)![1]!;
    expect(new URL(address).hostname).toBe(fixed.host);
    const pull = (timeout: string) =>
      soap(
        address,
        `<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>${timeout}</Timeout><MessageLimit>10</MessageLimit></PullMessages>`,
        {
          ...auth(),
          timeoutMs: 20_000,
        },
      );
    const initial = await pull('PT1S');
    expect(initial.text).toContain('PropertyOperation="Initialized"');
    const started = Date.now();
    const waiting = pull('PT10S');
    setTimeout(() => sim.emitEvent(fixed.code, 'motion', true), 300);
    const got = await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(got.text).toContain('tns1:VideoSource/MotionAlarm');
    expect(got.text).toMatch(/PropertyOperation="Changed".*Name="State" Value="true"/);
    expect(got.text).toMatch(/UtcTime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
    sim.emitEvent(fixed.code, 'tamper', true);
    const tamper = await pull('PT1S');
    expect(tamper.text).toContain('tns1:VideoSource/GlobalSceneChange/ImagingService');
    const quiet = Date.now();
    const empty = await pull('PT1S');
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(900);
    expect(empty.text).not.toContain('NotificationMessage');
    const un = await soap(address, '<Unsubscribe xmlns="http://docs.oasis-open.org/wsn/b-2"/>', auth());
    expect(un.text).toContain('UnsubscribeResponse');
    sim.emitEvent(fixed.code, 'motion', false);
    sim.emitEvent(fixed.code, 'tamper', false);
  });
});

describe('RTSP with real H.264', () => {
  it('ffprobe reads main and sub streams over TCP with the advertised size', async () => {
    for (const [uri, w, h] of [
      [fixed.mainStreamUri, 320, 180],
      [fixed.subStreamUri, 160, 90],
    ] as const) {
      const r = await run(FFPROBE, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', uri]);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout).streams[0];
      expect(s.codec_name).toBe('h264');
      expect([s.width, s.height]).toEqual([w, h]);
    }
  });

  it('ffmpeg decodes 30 frames without errors, keyframes one second apart', async () => {
    const dec = await run(FFMPEG, [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      fixed.mainStreamUri,
      '-frames:v',
      '30',
      '-f',
      'null',
      '-',
    ]);
    expect(dec.code).toBe(0);
    expect(dec.stderr.trim()).toBe('');
    const r = await run(FFPROBE, [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-select_streams',
      'v',
      '-read_intervals',
      '%+#80',
      '-show_entries',
      'packet=pts_time,flags',
      '-of',
      'json',
      spare.mainStreamUri,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const keys = JSON.parse(r.stdout)
      // The very first packet has no pts yet (ffmpeg waits for an RTCP sender report to map time).
      .packets.filter((p: any) => p.flags.startsWith('K') && p.pts_time !== undefined)
      .map((p: any) => Number(p.pts_time));
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < keys.length; i++) expect(keys[i] - keys[i - 1]).toBeCloseTo(1, 1);
  });

  it('sends well-formed RTP: PT 96, consecutive sequence numbers, timestamps rising across clip loops', async () => {
    const c = await RawRtsp.connect(spare.host, spare.rtspPort);
    try {
      const { describe: d, setup, play } = await c.play(spare.subStreamUri);
      expect(d.status).toBe(200);
      expect(d.body).toContain('a=rtpmap:96 H264/90000');
      expect(d.body).toMatch(/packetization-mode=1/);
      expect(d.body).toMatch(/profile-level-id=42C0[0-9A-F]{2}/);
      expect(d.body).toMatch(/sprop-parameter-sets=Z[A-Za-z0-9+/=]+,aM[A-Za-z0-9+/=]+/);
      expect(setup.headers['transport']).toContain('interleaved=0-1');
      expect(play.headers['rtp-info']).toMatch(/seq=\d+;rtptime=\d+/);
      // The clip may still be encoding; then 2.6 s of a 2-second clip at 15 fps crosses a loop.
      await c.waitPackets(1, 20_000);
      await sleep(2600);
      const pk = c.packets;
      expect(pk.length).toBeGreaterThan(30);
      expect(pk.every((p) => p.payloadType === 96 && p.ssrc === pk[0]!.ssrc)).toBe(true);
      for (let i = 1; i < pk.length; i++) {
        expect(pk[i]!.seq).toBe((pk[i - 1]!.seq + 1) & 0xffff);
        expect(pk[i]!.timestamp - pk[i - 1]!.timestamp >= 0).toBe(true);
      }
      const first = pk[0]!.payload;
      expect(nalType(first) === 7 || (nalType(first) === 28 && (first[1]! & 0x1f) === 7)).toBe(true);
      const frames = new Set(pk.map((p) => p.timestamp));
      expect(frames.size).toBeGreaterThanOrEqual(35);
      expect(pk.filter((p) => p.marker).length).toBe(frames.size);
      expect(pk.at(-1)!.timestamp - pk[0]!.timestamp).toBeGreaterThan(2 * 90000);
      const teardown = await c.request('TEARDOWN', spare.subStreamUri, {
        Session: setup.headers['session']!.split(';')[0]!,
      });
      expect(teardown.status).toBe(200);
    } finally {
      c.close();
    }
  });
});

describe('WS-Discovery', () => {
  it('answers a unicast Probe with a ProbeMatch naming its device service', async () => {
    const replies = await unicastProbe(fixed.host, fixed.discoveryPort);
    expect(replies).toHaveLength(1);
    const r = replies[0]!;
    expect(r).toContain('ProbeMatches');
    expect(r).toContain(`<d:XAddrs>${fixed.deviceServiceUrl}</d:XAddrs>`);
    expect(r).toContain(fixed.endpointReference);
    expect(r).toContain(`onvif://www.onvif.org/name/${fixed.code}`);
    expect(r).toContain('onvif://www.onvif.org/type/video_encoder');
    expect(await unicastProbe(fixed.host, fixed.discoveryPort, 'wsdp:Printer', 400)).toHaveLength(0);
  });
});

describe('faults, switched at run time', () => {
  it('offline: nothing answers on its address, and it comes back', async () => {
    await sim.setFaults(spare.code, { offline: true });
    await expect(connect(spare)).rejects.toThrow(/ECONNREFUSED/);
    await expect(RawRtsp.connect(spare.host, spare.rtspPort)).rejects.toThrow(/ECONNREFUSED/);
    expect(await unicastProbe(spare.host, spare.discoveryPort, undefined, 300)).toHaveLength(0);
    expect(sim.stats().online).toBe(sim.cameras.length - 1);
    await sim.setFaults(spare.code, {});
    expect((await connect(spare)).profiles).toHaveLength(2);
  });

  it('wrongPassword: ONVIF, RTSP and snapshot all refuse', async () => {
    await sim.setFaults(spare.code, { wrongPassword: true });
    await expect(connect(spare)).rejects.toThrow(/Sender not Authorized/);
    const c = await RawRtsp.connect(spare.host, spare.rtspPort);
    const d = await c.request('DESCRIBE', spare.mainStreamUri);
    c.close();
    expect(d.status).toBe(401);
    expect(d.headers['www-authenticate']).toMatch(/^Digest realm=/);
    expect((await fetch(spare.snapshotUri)).status).toBe(401);
    await sim.setFaults(spare.code, {});
  });

  it('stalledStream: DESCRIBE/SETUP/PLAY succeed but no RTP flows; clearing it resumes at a keyframe', async () => {
    await sim.setFaults(spare.code, { stalledStream: true });
    const c = await RawRtsp.connect(spare.host, spare.rtspPort);
    try {
      const { describe: d, setup, play } = await c.play(spare.subStreamUri);
      expect([d.status, setup.status, play.status]).toEqual([200, 200, 200]);
      await sleep(1500);
      expect(c.packets).toHaveLength(0);
      await sim.setFaults(spare.code, {});
      await c.waitPackets(1, 3000);
      expect(c.packets.length).toBeGreaterThan(0);
      expect(nalType(c.packets[0]!.payload)).toBe(7);
    } finally {
      c.close();
    }
  });

  it('slowRepliesMs delays every SOAP reply', async () => {
    await sim.setFaults(spare.code, { slowRepliesMs: 700 });
    const t = Date.now();
    const r = await soap(
      spare.deviceServiceUrl,
      '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
    );
    expect(r.status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(690);
    await sim.setFaults(spare.code, {});
  });

  it('malformedXml: replies are cut short and the library cannot parse them', async () => {
    await sim.setFaults(spare.code, { malformedXml: true });
    const r = await soap(
      spare.deviceServiceUrl,
      '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
    );
    expect(r.text).not.toContain('</env:Envelope>');
    await expect(connect(spare)).rejects.toThrow();
    await sim.setFaults(spare.code, {});
  });
});

describe('hostile clients', () => {
  const raw = (host: string, port: number, data: Buffer | string) =>
    new Promise<string>((resolve) => {
      const s = net.connect({ host, port }, () => s.write(data));
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('error', () => resolve(got));
      s.on('close', () => resolve(got));
      setTimeout(() => s.destroy(), 1500);
    });

  it('survives garbage on the HTTP and RTSP ports and keeps serving', async () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 97 + 13) & 255));
    await raw(fixed.host, fixed.onvifPort, junk);
    await raw(fixed.host, fixed.rtspPort, junk);
    const rtspHuge = await raw(fixed.host, fixed.rtspPort, `DESCRIBE rtsp://x/ RTSP/1.0\r\nX: ${'a'.repeat(20_000)}`);
    expect(rtspHuge).toMatch(/^RTSP\/1\.0 400/);
    const bad = await raw(fixed.host, fixed.rtspPort, 'HELLO\r\n\r\n');
    expect(bad).toMatch(/^RTSP\/1\.0 400/);
    const big = await fetch(fixed.deviceServiceUrl, { method: 'POST', body: 'x'.repeat(1_100_000) }).catch(
      () => undefined,
    );
    if (big) expect(big.status).toBe(413);
    const dtd = await fetch(fixed.deviceServiceUrl, {
      method: 'POST',
      body: '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaa">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&a;</s:Body></s:Envelope>',
    });
    expect(dtd.status).toBe(400);
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.send(junk.subarray(0, 1200), fixed.discoveryPort, fixed.host, () => r()));
    udp.close();
    expect(await unicastProbe(fixed.host, fixed.discoveryPort)).toHaveLength(1);
    const ok = await soap(
      fixed.deviceServiceUrl,
      '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>',
    );
    expect(ok.status).toBe(200);
    const c = await RawRtsp.connect(fixed.host, fixed.rtspPort);
    expect((await c.request('OPTIONS', '*')).headers['public']).toContain('DESCRIBE');
    c.close();
  });
});

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;
if (!canUnshare) {
  const why = 'simulator multicast test: cannot make a network namespace here (unshare -n failed)';
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${why}; REQUIRE_SERVICES=1`);
  console.warn(`SKIP ${why}`);
}

describe('multicast WS-Discovery', () => {
  it('is refused outside a network namespace made for a test', async () => {
    await expect(
      startSimulator({
        cameras: defaultCameraSpecs(1, { firstIp: block.host(1) }),
        clipDir,
        multicastInterface: '127.0.0.1',
      }),
    ).rejects.toThrow(/multicast WS-Discovery refused/);
  });

  it.skipIf(!canUnshare)('answers a multicast Probe inside its own loopback-only namespace', async () => {
    const script = path.join(import.meta.dirname, 'multicast-probe.ts');
    const setup = 'ip link set lo up && ip link set lo multicast on && ip route add 239.0.0.0/8 dev lo';
    const r = await run('unshare', ['-n', 'sh', '-c', `${setup} && exec "${process.execPath}" "${script}" 3`], 30_000);
    expect(r.code, r.stderr).toBe(0);
    const { xaddrs, expected } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(expected).toHaveLength(3);
    expect(xaddrs).toEqual(expected);
  });
});

describe('measurement helper', () => {
  it('reports CPU and RSS of the simulator process', async () => {
    const r = await measureResources(200);
    expect(r.rssMiB).toBeGreaterThan(10);
    expect(r.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sim.stats().cameras).toBe(12);
  });
});
