/** The RTSP probe against hostile servers on loopback: garbage, endless headers, silence, refusal. */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSdpVideo, rtspProbe } from './rtsp-probe.ts';

let server: Server | null = null;
const serve = async (onData: (s: Socket, chunk: string) => void): Promise<string> => {
  server = createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (c) => onData(s, c.toString()));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `rtsp://127.0.0.1:${(server!.address() as AddressInfo).port}/stream`;
};
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

describe('rtspProbe against hostile servers', () => {
  it('gives up on garbage', async () => {
    const uri = await serve((s) => s.write('HTTP/1.1 200 OK\r\n\r\n<html>'));
    const r = await rtspProbe(uri, { timeoutMs: 2000, wantVideo: true });
    expect(r).toMatchObject({ ok: false, stage: 'describe' });
    expect(r.reason).toMatch(/not an RTSP reply/);
  });

  it('caps an endless header', async () => {
    const uri = await serve((s) => {
      const junk = 'X-Junk: ' + 'a'.repeat(4096) + '\r\n';
      s.write('RTSP/1.0 200 OK\r\n');
      for (let i = 0; i < 10; i++) s.write(junk);
    });
    const r = await rtspProbe(uri, { timeoutMs: 2000, wantVideo: false });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/larger than 16 KB/);
  });

  it('times out on silence and reports refusal', async () => {
    const uri = await serve(() => undefined);
    const r = await rtspProbe(uri, { timeoutMs: 300, wantVideo: false });
    expect(r).toMatchObject({ ok: false, stage: 'describe' });
    expect(r.reason).toMatch(/no reply to DESCRIBE/);
    const refused = await rtspProbe('rtsp://127.0.0.1:1/x', { timeoutMs: 1000, wantVideo: false });
    expect(refused.reason).toBe('connection refused');
  });

  it('refuses an SDP without video and absurd Content-Length', async () => {
    const audioOnly = 'v=0\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    let uri = await serve((s) =>
      s.write(`RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: ${audioOnly.length}\r\n\r\n${audioOnly}`),
    );
    expect((await rtspProbe(uri, { timeoutMs: 2000, wantVideo: false })).reason).toBe('SDP has no video');
    await new Promise<void>((r) => server!.close(() => r()));
    uri = await serve((s) => s.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n'));
    expect((await rtspProbe(uri, { timeoutMs: 2000, wantVideo: false })).reason).toMatch(/Content-Length/);
  });

  it('rejects non-RTSP URIs without connecting', async () => {
    expect((await rtspProbe('http://127.0.0.1/x', { timeoutMs: 100, wantVideo: false })).reason).toMatch(
      /unsupported scheme/,
    );
  });
});

describe('parseSdpVideo', () => {
  it('finds the codec and resolves the control URL', () => {
    const sdp =
      'v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=control:trackID=1\r\nm=audio 0 RTP/AVP 97\r\n';
    expect(parseSdpVideo(sdp, 'rtsp://h/s/')).toEqual({
      codec: 'H265',
      control: 'rtsp://h/s/trackID=1',
      payloadType: 96,
    });
  });
});
