import { describe, expect, it } from 'vitest';
import { PCR_DELAY_90K, TS_PACKET, TsMuxer, VIDEO_PID, crc32mpeg } from './ts-mux.ts';

interface Pkt {
  pid: number;
  pusi: boolean;
  cc: number;
  af: Buffer | null;
  payload: Buffer;
}

function packets(b: Buffer): Pkt[] {
  expect(b.length % TS_PACKET).toBe(0);
  const out: Pkt[] = [];
  for (let o = 0; o < b.length; o += TS_PACKET) {
    const p = b.subarray(o, o + TS_PACKET);
    expect(p[0]).toBe(0x47);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const afc = (p[3]! >> 4) & 3;
    let at = 4;
    let af: Buffer | null = null;
    if (afc & 2) {
      af = p.subarray(5, 5 + p[4]!);
      at = 5 + p[4]!;
    }
    out.push({
      pid,
      pusi: (p[1]! & 0x40) !== 0,
      cc: p[3]! & 0x0f,
      af,
      payload: afc & 1 ? p.subarray(at) : Buffer.alloc(0),
    });
  }
  return out;
}

const readPts = (b: Buffer, at: number) =>
  ((b[at]! >> 1) & 7) * 2 ** 30 +
  (b[at + 1]! << 22) +
  ((b[at + 2]! >> 1) << 15) +
  (b[at + 3]! << 7) +
  (b[at + 4]! >> 1);
const readPcr = (af: Buffer) => af.readUInt32BE(1) * 2 + (af[5]! >> 7);

describe('TsMuxer', () => {
  it('PSI sections carry the MPEG-2 CRC (the PAT of program 1 at PID 0x1000 is the well-known 2AB104B2)', () => {
    const pat = Buffer.from([0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00]);
    expect(crc32mpeg(pat).toString(16)).toBe('2ab104b2');
    const t = packets(new TsMuxer('h264').tables());
    expect(t.map((p) => p.pid)).toEqual([0, 0x1000]);
    expect(t[0]!.payload.subarray(1, 17).toString('hex')).toBe('00b00d0001c100000001f0002ab104b2');
    // PMT: one H.264 stream (type 0x1B) on the video PID, which also carries the PCR; its CRC checks out.
    const pmt = t[1]!.payload.subarray(1, 1 + 3 + 18);
    expect(crc32mpeg(pmt.subarray(0, pmt.length - 4))).toBe(pmt.readUInt32BE(pmt.length - 4));
    expect(pmt[12]).toBe(0x1b);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(VIDEO_PID);
    expect(packets(new TsMuxer('h265').tables())[1]!.payload[13]).toBe(0x24);
  });

  it('an access unit: one PES with its PTS, a delimiter and start codes, PCR first, packets filled exactly', () => {
    const mux = new TsMuxer('h264');
    let cc = -1;
    // Sizes around every packet boundary, and a NAL unit in several pieces.
    // The PES is the NAL unit plus 30 bytes: 175–177 bytes fill the first packet (176 after its PCR) exactly,
    // less or more; 359–361 the second (184).
    for (const size of [1, 145, 146, 147, 150, 329, 330, 331, 5000, 70_000]) {
      const nal = Buffer.alloc(size, 0x55);
      nal[0] = 0x41; // a non-IDR slice
      const pieces = [nal.subarray(0, Math.ceil(size / 3)), nal.subarray(Math.ceil(size / 3))];
      const pts = 126_000 + size * 3;
      const ps = packets(mux.accessUnit({ nals: [pieces, [Buffer.from([0x06, 0x05])]], pts90k: pts, keyframe: false }));
      expect(ps.every((p) => p.pid === VIDEO_PID)).toBe(true);
      expect(ps.map((p) => p.pusi)).toEqual(ps.map((_, i) => i === 0));
      for (const p of ps) {
        expect(p.cc).toBe((cc + 1) & 0x0f);
        cc = p.cc;
      }
      const first = ps[0]!;
      expect(first.af![0]! & 0x10).toBe(0x10); // PCR flag
      expect(first.af![0]! & 0x40).toBe(0); // not a random access point
      expect(readPcr(first.af!)).toBe(pts - PCR_DELAY_90K);
      const pes = Buffer.concat(ps.map((p) => p.payload));
      expect(pes.subarray(0, 4).toString('hex')).toBe('000001e0');
      expect(pes[7]).toBe(0x80);
      expect(readPts(pes, 9)).toBe(pts);
      expect(pes.subarray(14).toString('hex')).toBe(
        '0000000109f0' + '00000001' + nal.toString('hex') + '00000001' + '0605',
      );
    }
  });

  it('a keyframe: PAT and PMT first, the random access flag set; PTS wraps at 2^33', () => {
    const mux = new TsMuxer('h265');
    const idr = Buffer.from([0x26, 0x01, 0xaa, 0xbb]);
    const ps = packets(mux.accessUnit({ nals: [[idr]], pts90k: 2 ** 33 + 5, keyframe: true }));
    expect(ps.map((p) => p.pid)).toEqual([0, 0x1000, VIDEO_PID]);
    expect(ps[2]!.af![0]! & 0x40).toBe(0x40);
    expect(readPts(ps[2]!.payload, 9)).toBe(5);
    expect(ps[2]!.payload.subarray(14).toString('hex')).toBe('00000001460150' + '00000001' + '2601aabb');
  });
});
