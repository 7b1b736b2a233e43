/**
 * A minimal ONVIF device on 127.0.0.1, port 0, that answers each SOAP operation discovery uses with
 * whatever the test puts in `replies`: raw XML text, so a test can hand the server the bytes a
 * hostile device would (control characters, bidi overrides, huge fields).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDeviceReplies {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
  mac: string;
  profileName: string;
  encoding: string;
  streamPath: string;
  /** A SOAP fault reason for GetSnapshotUri, or null for a normal answer. */
  snapshotFault: string | null;
}

export interface FakeDevice {
  /** The device service URL, as a manual scan of `address` would form it. */
  xaddr: string;
  /** host:port, for a manual scan. */
  address: string;
  replies: FakeDeviceReplies;
  close(): Promise<void>;
}

/** Escapes only what XML itself needs; everything else is sent as is, on purpose. */
const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startFakeDevice(replies: Partial<FakeDeviceReplies> = {}): Promise<FakeDevice> {
  const r: FakeDeviceReplies = {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD2T47G2-L',
    firmware: 'V5.7.3',
    serial: 'DS-2CD2T47G2-L20230101AACH000000001',
    hardwareId: '88',
    mac: '44:19:b6:00:00:01',
    profileName: 'mainStream',
    encoding: 'H264',
    streamPath: '/Streaming/Channels/101',
    snapshotFault: null,
    ...replies,
  };
  let base = '';
  const body = (op: string): { xml: string; fault?: boolean } | null => {
    switch (op) {
      case 'GetSystemDateAndTime': {
        const d = new Date();
        return {
          xml:
            `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime>` +
            `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
            `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
            `</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
        };
      }
      case 'GetDeviceInformation':
        return {
          xml:
            `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(r.manufacturer)}</tds:Manufacturer>` +
            `<tds:Model>${x(r.model)}</tds:Model><tds:FirmwareVersion>${x(r.firmware)}</tds:FirmwareVersion>` +
            `<tds:SerialNumber>${x(r.serial)}</tds:SerialNumber><tds:HardwareId>${x(r.hardwareId)}</tds:HardwareId>` +
            `</tds:GetDeviceInformationResponse>`,
        };
      case 'GetNetworkInterfaces':
        return {
          xml:
            `<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0"><tt:Info><tt:Name>eth0</tt:Name>` +
            `<tt:HwAddress>${x(r.mac)}</tt:HwAddress></tt:Info></tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>`,
        };
      case 'GetCapabilities':
        return {
          xml:
            `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>${base}/onvif/media</tt:XAddr></tt:Media>` +
            `</tds:Capabilities></tds:GetCapabilitiesResponse>`,
        };
      case 'GetProfiles':
        return {
          xml:
            `<trt:GetProfilesResponse><trt:Profiles token="Profile_1"><tt:Name>${x(r.profileName)}</tt:Name>` +
            `<tt:VideoEncoderConfiguration><tt:Encoding>${x(r.encoding)}</tt:Encoding>` +
            `<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>` +
            `<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit></tt:RateControl></tt:VideoEncoderConfiguration>` +
            `</trt:Profiles></trt:GetProfilesResponse>`,
        };
      case 'GetStreamUri':
        return {
          xml: `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://127.0.0.1:554${x(r.streamPath)}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`,
        };
      case 'GetSnapshotUri':
        if (r.snapshotFault !== null)
          return {
            fault: true,
            xml:
              `<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>` +
              `<s:Reason><s:Text xml:lang="en">${x(r.snapshotFault)}</s:Text></s:Reason></s:Fault>`,
          };
        return {
          xml: `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${base}/snap.jpg</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>`,
        };
      default:
        return null;
    }
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      const op = /<(?:s:)?Body>\s*<\w+:(\w+)/.exec(text)?.[1] ?? '';
      const b = body(op);
      if (!b) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(b.fault ? 500 : 200, { 'content-type': 'application/soap+xml; charset=utf-8' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
          `xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ` +
          `xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>${b.xml}</s:Body></s:Envelope>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    xaddr: `${base}/onvif/device_service`,
    address: `127.0.0.1:${port}`,
    replies: r,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
