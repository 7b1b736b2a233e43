/**
 * The ONVIF client against recorded vendor replies served by a real HTTP
 * server on loopback, and against hostile replies: DTDs, endless bodies,
 * silence, non-XML.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProbeMatches } from '../ws-discovery.ts';
import { parseXml } from '../xml.ts';
import { OnvifError, clockOffsetFrom, createOnvifClient } from './client.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../tests/fixtures/onvif/${name}`, import.meta.url), 'utf8');

/** Route by the SOAP operation in the request body. */
let replies: Record<string, (res: ServerResponse) => void> = {};
let server: Server;
let base = '';
const xml =
  (body: string, status = 200) =>
  (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
    res.end(body);
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const op = /<(?:\w+:)?(Get\w+)/.exec(body.split('<s:Body>')[1] ?? '')?.[1] ?? 'unknown';
      const h = replies[op];
      if (h) h(res);
      else xml(fixture('generic-Fault-NotAuthorized.xml'), 400)(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/onvif/device_service`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = (timeoutMs = 2000, maxBytes = 64 * 1024) =>
  createOnvifClient({ xaddr: base, credentials: { username: 'admin', password: 'pw' }, timeoutMs, maxBytes });

describe('recorded vendor replies', () => {
  it('reads the device clock (Hikvision, clock years off) and learns the offset', async () => {
    replies = { GetSystemDateAndTime: xml(fixture('hikvision-GetSystemDateAndTime.xml')) };
    const c = client();
    const t = await c.getSystemDateAndTime();
    expect(t.toISOString()).toBe('2019-01-02T03:04:05.000Z');
    expect(c.clockOffsetMs).toBeLessThan(-5 * 365 * 24 * 3600_000);
  });

  it('reads device information', async () => {
    replies = { GetDeviceInformation: xml(fixture('hikvision-GetDeviceInformation.xml')) };
    expect(await client().getDeviceInformation()).toMatchObject({
      manufacturer: 'HIKVISION',
      model: 'DS-2CD2T47G2-L',
      serial: 'DS-2CD2T47G2-L20220301AACHJ12345678',
    });
  });

  it('reads Dahua profiles with codec, resolution, fps and PTZ', async () => {
    replies = {
      GetCapabilities: xml(
        `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetCapabilitiesResponse><Capabilities><Media><XAddr>http://10.0.0.9/onvif/media_service</XAddr></Media></Capabilities></GetCapabilitiesResponse></s:Body></s:Envelope>`,
      ),
      GetProfiles: xml(fixture('dahua-GetProfiles.xml')),
    };
    const profiles = await client().getProfiles();
    expect(profiles).toEqual([
      {
        token: 'MediaProfile00000',
        name: 'MediaProfile_Channel1_MainStream',
        encoding: 'H264',
        width: 2688,
        height: 1520,
        fps: 25,
        hasPtz: true,
        videoSourceToken: null,
      },
      {
        token: 'MediaProfile00001',
        name: 'MediaProfile_Channel1_SubStream1',
        encoding: 'H265',
        width: 704,
        height: 576,
        fps: 15,
        hasPtz: false,
        videoSourceToken: null,
      },
    ]);
  });

  it('maps NotAuthorized faults to an auth error', async () => {
    replies = {};
    await expect(client().getDeviceInformation()).rejects.toMatchObject({ kind: 'auth' });
  });

  it('parses a WS-Discovery ProbeMatches reply', () => {
    const m = parseProbeMatches(fixture('generic-ProbeMatches.xml'), 'uuid:probe-1', '192.0.2.10');
    expect(m).toEqual([
      {
        endpoint: 'urn:uuid:4a4b4c4d-0000-1111-2222-bcbaadc0ffee',
        xaddrs: ['http://192.0.2.10/onvif/device_service', 'http://[2001:db8::10]/onvif/device_service'],
        scopes: [
          'onvif://www.onvif.org/type/video_encoder',
          'onvif://www.onvif.org/hardware/DS-2DE4425IW',
          'onvif://www.onvif.org/name/HIKVISION',
        ],
        types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
        from: '192.0.2.10',
      },
    ]);
    expect(parseProbeMatches(fixture('generic-ProbeMatches.xml'), 'uuid:other-probe', '192.0.2.10')).toEqual([]);
  });
});

describe('replies recorded from the simulator (a Uniview PTZ dome)', () => {
  it('reads capabilities, profiles and PTZ presets', async () => {
    replies = {
      GetCapabilities: xml(fixture('sim-GetCapabilities.xml')),
      GetProfiles: xml(fixture('sim-GetProfiles.xml')),
      GetPresets: xml(fixture('sim-GetPresets.xml')),
      GetDeviceInformation: xml(fixture('sim-GetDeviceInformation.xml')),
    };
    const c = client();
    const caps = await c.getCapabilities();
    // Service addresses are rebased onto the address the device was reached at.
    expect(caps.ptzXAddr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/ptz_service$/);
    const profiles = await c.getProfiles();
    expect(profiles.map((p) => [p.token, p.encoding, p.hasPtz])).toEqual([
      ['Profile_1', 'H264', true],
      ['Profile_2', 'H264', true],
    ]);
    expect((await c.getPresets('Profile_1')).length).toBeGreaterThan(0);
    expect((await c.getDeviceInformation()).serial).toBe('210235CWV30084525706');
  });
});

describe('hostile replies', () => {
  it('refuses a DTD (XXE, entity bombs) without reading files', async () => {
    expect(() => parseXml(fixture('hostile-XXE.xml'))).toThrow(/DTD/);
    replies = { GetDeviceInformation: xml(fixture('hostile-XXE.xml')) };
    await expect(client().getDeviceInformation()).rejects.toMatchObject({ kind: 'malformed' });
  });

  it('caps an endless reply', async () => {
    replies = {
      GetDeviceInformation: (res) => {
        res.writeHead(200, { 'content-type': 'application/soap+xml' });
        const chunk = '<a>' + 'x'.repeat(16 * 1024);
        const pump = () => {
          while (res.write(chunk)) {
            if (res.destroyed) return;
          }
          res.once('drain', pump);
        };
        res.on('error', () => undefined);
        pump();
      },
    };
    const err = await client(5000, 64 * 1024)
      .getDeviceInformation()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnvifError);
    expect((err as OnvifError).message).toMatch(/larger than/);
  });

  it('times out on a device that never answers', async () => {
    replies = { GetDeviceInformation: () => undefined };
    await expect(client(300).getDeviceInformation()).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('calls a web page not ONVIF, and broken XML malformed', async () => {
    replies = {
      GetDeviceInformation: (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Router login</body></html>');
      },
    };
    await expect(client().getDeviceInformation()).rejects.toMatchObject({ kind: 'not_onvif' });
    replies = { GetDeviceInformation: xml('<s:Envelope><s:Body><unclosed>') };
    await expect(client().getDeviceInformation()).rejects.toMatchObject({ kind: 'malformed' });
    replies = { GetDeviceInformation: xml('<wrong xmlns="urn:x"><Body/></wrong>') };
    await expect(client().getDeviceInformation()).rejects.toMatchObject({ kind: 'not_onvif' });
  });

  it('rejects stream URIs a device could use to smuggle options', async () => {
    replies = {
      GetCapabilities: xml(
        `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetCapabilitiesResponse><Capabilities><Media><XAddr>http://10.0.0.9/onvif/media_service</XAddr></Media></Capabilities></GetCapabilitiesResponse></s:Body></s:Envelope>`,
      ),
      GetStreamUri: xml(
        `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetStreamUriResponse><MediaUri><Uri>file:///etc/passwd</Uri></MediaUri></GetStreamUriResponse></s:Body></s:Envelope>`,
      ),
    };
    await expect(client().getStreamUri('p1')).rejects.toMatchObject({ kind: 'malformed' });
  });

  it('bounds and cleans what a device says: identity fields and fault reasons', async () => {
    const env = (body: string) =>
      `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${body}</s:Body></s:Envelope>`;
    const forbidden = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    replies = {
      GetDeviceInformation: xml(
        env(
          `<GetDeviceInformationResponse><Manufacturer>\u202eHik\u0007\u001b[2J${'M'.repeat(40_000)}</Manufacturer>` +
            `<Model>IPC\u2066x\u2069</Model></GetDeviceInformationResponse>`,
        ),
      ),
    };
    const info = await client().getDeviceInformation();
    expect(info.manufacturer.length).toBeLessThanOrEqual(256);
    expect(info.manufacturer).toMatch(/^Hik \[2JM+$/);
    expect(info.model).toBe('IPCx');
    replies = {
      GetDeviceInformation: xml(
        env(
          `<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text>\u202ebusy\u0007${'R'.repeat(40_000)}</s:Text></s:Reason></s:Fault>`,
        ),
        500,
      ),
    };
    const err = (await client()
      .getDeviceInformation()
      .catch((e: unknown) => e)) as OnvifError;
    expect(err).toBeInstanceOf(OnvifError);
    expect(err.message.length).toBeLessThanOrEqual(300);
    expect(forbidden.test(err.message)).toBe(false);
    expect(err.message).toMatch(/busy R+/);
  });

  it('unreachable devices are unreachable', async () => {
    const c = createOnvifClient({ xaddr: 'http://127.0.0.1:1/onvif/device_service', timeoutMs: 1000 });
    await expect(c.getSystemDateAndTime()).rejects.toMatchObject({ kind: 'unreachable' });
  });
});

describe('clock offset from a whole-second device time', () => {
  it('is 0 when the reported second is one our clock showed during the exchange, even after a slow round trip', () => {
    // Sent at 10.900 s, answered at 12.100 s; the device read 12 (or 11, or 10) s: no skew it can show.
    for (const d of [10_000, 11_000, 12_000]) expect(clockOffsetFrom(d, 10_900, 12_100)).toBe(0);
  });
  it('otherwise centres on the reported second, early or late', () => {
    expect(clockOffsetFrom(3_610_000, 10_000, 10_200)).toBe(3_610_500 - 10_100);
    expect(clockOffsetFrom(5_000, 10_000, 10_200)).toBe(5_500 - 10_100);
  });
});
