import { describe, expect, it } from 'vitest';
import {
  groupAccessUnits,
  interleavedAccessUnit,
  packetizeAccessUnit,
  parseSps,
  prepareStream,
  splitAnnexB,
  unescapeRbsp,
} from './h264.ts';
import { buildSdp, streamForPath } from './rtsp.ts';

// SPS/PPS written by x264 for 1920x1080 baseline, level 4.0.
const SPS_1080 = Buffer.from('6742c028da01e0089f97011000000300100000030320f1832a', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const sc = Buffer.from([0, 0, 0, 1]);
const slice = (type: 1 | 5, firstMb: boolean, len: number) =>
  Buffer.concat([Buffer.from([type === 5 ? 0x65 : 0x41, firstMb ? 0x88 : 0x08]), Buffer.alloc(len - 2, 0xab)]);

describe('Annex-B parsing', () => {
  it('splits on 3- and 4-byte start codes', () => {
    const s = Buffer.concat([sc, SPS_1080, Buffer.from([0, 0, 1]), PPS, sc, slice(5, true, 10)]);
    const nals = splitAnnexB(s);
    expect(nals.map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
    expect(nals[0]).toEqual(SPS_1080);
  });

  it('groups NAL units into access units at parameter sets and first slices', () => {
    const nals = [SPS_1080, PPS, slice(5, true, 20), slice(5, false, 20), slice(1, true, 20), slice(1, true, 20)];
    const aus = groupAccessUnits(nals);
    expect(aus.map((a) => a.nals.length)).toEqual([4, 1, 1]);
    expect(aus.map((a) => a.idr)).toEqual([true, false, false]);
  });

  it('reads the picture size from an SPS', () => {
    expect(parseSps(SPS_1080)).toMatchObject({ profileIdc: 66, levelIdc: 40, width: 1920, height: 1080 });
  });

  it('removes emulation prevention bytes', () => {
    expect([...unescapeRbsp(Buffer.from([1, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 2, 0, 3]))]).toEqual([
      1, 0, 0, 1, 0, 0, 0, 0, 2, 0, 3,
    ]);
  });

  it('puts SPS and PPS in front of every IDR', () => {
    const s = Buffer.concat([
      sc,
      SPS_1080,
      sc,
      PPS,
      sc,
      slice(5, true, 30),
      sc,
      slice(1, true, 30),
      sc,
      slice(5, true, 30),
    ]);
    const st = prepareStream(s);
    expect(st.aus).toHaveLength(3);
    expect(st.aus[2]!.nals.map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
    expect(st.profileLevelId).toBe('42C028');
    expect(st.spropParameterSets).toBe(`${SPS_1080.toString('base64')},${PPS.toString('base64')}`);
  });
});

describe('RTP packetization (RFC 6184)', () => {
  it('fragments large NALs as FU-A and reassembles to the original', () => {
    const big = slice(5, true, 5000);
    const ps = packetizeAccessUnit({ nals: [SPS_1080, PPS, big], idr: true }, 1400);
    expect(ps.slice(0, 2).every((p) => p.head.length === 0 && !p.marker)).toBe(true);
    const fus = ps.slice(2);
    expect(fus.length).toBe(Math.ceil(4999 / 1398));
    expect(fus.every((p) => (p.head[0]! & 0x1f) === 28 && (p.head[1]! & 0x1f) === 5)).toBe(true);
    expect(fus[0]!.head[1]! & 0x80).toBe(0x80);
    expect(fus.at(-1)!.head[1]! & 0x40).toBe(0x40);
    expect(fus.map((p) => p.marker)).toEqual(fus.map((_, i) => i === fus.length - 1));
    const rebuilt = Buffer.concat([Buffer.from([(fus[0]!.head[0]! & 0xe0) | 5]), ...fus.map((p) => p.body)]);
    expect(rebuilt).toEqual(big);
    expect(Math.max(...ps.map((p) => p.head.length + p.body.length))).toBeLessThanOrEqual(1400);
  });

  it('frames an access unit for interleaved transport with consecutive sequence numbers', () => {
    const ps = packetizeAccessUnit({ nals: [slice(1, true, 3000)], idr: false });
    const buf = interleavedAccessUnit(ps, 0, 0xfffe, 123456, 0xdeadbeef);
    let off = 0;
    const seqs: number[] = [];
    while (off < buf.length) {
      expect(buf[off]).toBe(0x24);
      const len = buf.readUInt16BE(off + 2);
      seqs.push(buf.readUInt16BE(off + 6));
      expect(buf.readUInt32BE(off + 8)).toBe(123456);
      expect(buf[off + 5]! & 0x7f).toBe(96);
      off += 4 + len;
    }
    expect(off).toBe(buf.length);
    expect(seqs).toEqual([0xfffe, 0xffff, 0]);
  });
});

describe('RTSP URLs and SDP', () => {
  it.each([
    ['rtsp://127.0.1.5:8554/Streaming/Channels/101', 'main'],
    ['rtsp://admin:pw@127.0.1.5:8554/Streaming/Channels/102/', 'sub'],
    ['rtsp://127.0.1.5/Streaming/Channels/101/trackID=1', 'main'],
    ['rtsp://127.0.1.5/cam/realmonitor?channel=1&subtype=1', 'sub'],
    ['rtsp://127.0.1.5/media/video1', 'main'],
    ['rtsp://127.0.1.5/Streaming/Channels/103', undefined],
    ['rtsp://127.0.1.5/../../etc/passwd', undefined],
  ])('%s → %s', (url, stream) => {
    expect(streamForPath(url)).toBe(stream);
  });

  it('describes H.264 with payload type 96 and the stream parameters', () => {
    const st = prepareStream(Buffer.concat([sc, SPS_1080, sc, PPS, sc, slice(5, true, 30)]));
    const sdp = buildSdp({
      host: '127.0.1.5',
      sessionId: '1',
      profile: { width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 },
      stream: st,
    });
    expect(sdp).toContain('m=video 0 RTP/AVP 96\r\n');
    expect(sdp).toContain('a=rtpmap:96 H264/90000\r\n');
    expect(sdp).toContain(
      `a=fmtp:96 profile-level-id=42C028;packetization-mode=1;sprop-parameter-sets=${st.spropParameterSets}`,
    );
    expect(sdp).toContain('a=control:trackID=1');
  });
});
