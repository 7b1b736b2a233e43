import { describe, expect, it } from 'vitest';
import { RtpDepacketizer, type AccessUnit } from './depacketize.ts';

function rtp(seq: number, ts: number, payload: Buffer, marker = false, pt = 96): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(0x1234, 8);
  return Buffer.concat([h, payload]);
}

const joined = (au: AccessUnit) => au.nals.map((n) => Buffer.concat(n).toString('hex'));

/** H.264 FU-A fragments of one NAL unit, `size` bytes of payload each. */
function fuA(nal: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  const body = nal.subarray(1);
  for (let off = 0; off < body.length; off += size) {
    const s = off === 0 ? 0x80 : 0;
    const e = off + size >= body.length ? 0x40 : 0;
    out.push(
      Buffer.concat([Buffer.from([(nal[0]! & 0xe0) | 28, s | e | (nal[0]! & 0x1f)]), body.subarray(off, off + size)]),
    );
  }
  return out;
}

describe('RtpDepacketizer (H.264)', () => {
  const sps = Buffer.from('6742c01e', 'hex');
  const pps = Buffer.from('68ce3c80', 'hex');
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(5000, 7)]);

  it('STAP-A parameter sets and an FU-A keyframe make one access unit; a single NAL unit the next', () => {
    const aus: AccessUnit[] = [];
    const d = new RtpDepacketizer('h264', 96, (au) => aus.push(au));
    const stap = Buffer.concat([Buffer.from([0x18, 0, 4]), sps, Buffer.from([0, 4]), pps]);
    let seq = 10;
    d.push(rtp(seq++, 9000, stap));
    const frags = fuA(idr, 1400);
    frags.forEach((f, i) => d.push(rtp(seq++, 9000, f, i === frags.length - 1)));
    d.push(rtp(seq++, 12600, Buffer.from([0x09, 0xf0]))); // a delimiter: dropped
    d.push(rtp(seq++, 12600, Buffer.from([0x41, 1, 2, 3]), true));
    expect(aus.length).toBe(2);
    expect(aus[0]!).toMatchObject({ rtpTime: 9000, keyframe: true, damaged: false });
    expect(aus[0]!.hasParams).toEqual({ vps: false, sps: true, pps: true });
    expect(joined(aus[0]!)).toEqual([sps.toString('hex'), pps.toString('hex'), idr.toString('hex')]);
    // The fragments were kept as pieces, not joined.
    expect(aus[0]!.nals[2]!.length).toBe(frags.length + 1);
    expect(aus[1]!).toMatchObject({ rtpTime: 12600, keyframe: false });
    expect(joined(aus[1]!)).toEqual(['41010203']);
  });

  it('a lost fragment drops its NAL unit and marks the access unit; a new timestamp ends one without a marker', () => {
    const aus: AccessUnit[] = [];
    const d = new RtpDepacketizer('h264', 96, (au) => aus.push(au));
    const frags = fuA(idr, 1000);
    d.push(rtp(1, 100, Buffer.from([0x06, 0x05, 0x01]))); // SEI
    d.push(rtp(2, 100, frags[0]!));
    d.push(rtp(4, 100, frags[2]!)); // 3 lost
    for (let i = 3; i < frags.length; i++) d.push(rtp(2 + i, 100, frags[i]!));
    d.push(rtp(20, 200, Buffer.from([0x41, 9]))); // next picture, no marker before it
    d.flush();
    expect(aus.length).toBe(2);
    expect(aus[0]!).toMatchObject({ damaged: true, keyframe: false });
    expect(joined(aus[0]!)).toEqual(['060501']);
    expect(joined(aus[1]!)).toEqual(['4109']);
  });

  it('ignores other payload types, malformed packets and aggregates that lie about their sizes', () => {
    const aus: AccessUnit[] = [];
    const d = new RtpDepacketizer('h264', 96, (au) => aus.push(au));
    d.push(rtp(1, 1, Buffer.from([0x41, 1]), true, 97));
    d.push(Buffer.from([1, 2, 3]));
    d.push(Buffer.alloc(12, 0xff));
    d.push(rtp(2, 5, Buffer.from([0x18, 0xff, 0xff, 0x67]), true)); // STAP-A size past the end
    d.push(rtp(3, 6, Buffer.from([0x1c]), true)); // an FU-A without its header
    d.push(rtp(4, 7, Buffer.from([0x1c, 0x45, 1, 2]), true)); // a middle fragment of nothing
    expect(aus).toEqual([]);
  });
});

describe('RtpDepacketizer (H.265)', () => {
  it('an AP with VPS, SPS and PPS and a fragmented IDR picture make a keyframe', () => {
    const vps = Buffer.from('40010c01ff', 'hex');
    const sps = Buffer.from('420101016000', 'hex');
    const pps = Buffer.from('4401c172b4', 'hex');
    const idr = Buffer.concat([Buffer.from([0x26, 0x01]), Buffer.alloc(3000, 9)]); // IDR_W_RADL (19)
    const ap = Buffer.concat([
      Buffer.from([0x60, 0x01]), // type 48
      ...[vps, sps, pps].flatMap((n) => [Buffer.from([0, n.length]), n]),
    ]);
    const body = idr.subarray(2);
    const frags: Buffer[] = [];
    for (let off = 0; off < body.length; off += 1200) {
      const fu = (off === 0 ? 0x80 : 0) | (off + 1200 >= body.length ? 0x40 : 0) | 19;
      frags.push(Buffer.concat([Buffer.from([49 << 1, 0x01, fu]), body.subarray(off, off + 1200)]));
    }
    const aus: AccessUnit[] = [];
    const d = new RtpDepacketizer('h265', 98, (au) => aus.push(au));
    d.push(rtp(1, 3000, ap, false, 98));
    frags.forEach((f, i) => d.push(rtp(2 + i, 3000, f, i === frags.length - 1, 98)));
    expect(aus.length).toBe(1);
    expect(aus[0]!.keyframe).toBe(true);
    expect(aus[0]!.hasParams).toEqual({ vps: true, sps: true, pps: true });
    expect(joined(aus[0]!)).toEqual([vps, sps, pps, idr].map((b) => b.toString('hex')));
  });
});
