import { describe, expect, it } from 'vitest';
import { FragmentMerger, mergeablePayloadTypes, parseRtp } from './rtp-merge.ts';
import { framesIn } from './rtsp-wire.ts';

const SSRC = 0x11223344;

function rtp(seq: number, ts: number, payload: Buffer, opts: { pt?: number; marker?: boolean } = {}): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = ((opts.marker ?? false) ? 0x80 : 0) | (opts.pt ?? 96);
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts, 4);
  h.writeUInt32BE(SSRC, 8);
  return Buffer.concat([h, payload]);
}

/** A NAL unit of `size` bytes (header byte first) with recognisable content. */
function nal264(type: number, size: number, nri = 3): Buffer {
  const b = Buffer.alloc(size);
  b[0] = (nri << 5) | type;
  for (let i = 1; i < size; i++) b[i] = (i * 7) & 0xff;
  return b;
}

/** The camera's side: one NAL unit as FU-A fragments of at most `mtu` payload bytes. */
function fuA(nal: Buffer, mtu: number): Buffer[] {
  const out: Buffer[] = [];
  const body = nal.subarray(1);
  for (let off = 0; off < body.length; off += mtu - 2) {
    const end = Math.min(off + mtu - 2, body.length);
    const s = off === 0 ? 0x80 : 0;
    const e = end === body.length ? 0x40 : 0;
    out.push(Buffer.concat([Buffer.from([(nal[0]! & 0xe0) | 28, s | e | (nal[0]! & 0x1f)]), body.subarray(off, end)]));
  }
  return out;
}

/** H.265: the 2-byte NAL header, FU type 49. */
function fuH265(nal: Buffer, mtu: number): Buffer[] {
  const out: Buffer[] = [];
  const type = (nal[0]! >> 1) & 0x3f;
  const body = nal.subarray(2);
  for (let off = 0; off < body.length; off += mtu - 3) {
    const end = Math.min(off + mtu - 3, body.length);
    const s = off === 0 ? 0x80 : 0;
    const e = end === body.length ? 0x40 : 0;
    out.push(
      Buffer.concat([Buffer.from([(nal[0]! & 0x81) | (49 << 1), nal[1]!, s | e | type]), body.subarray(off, end)]),
    );
  }
  return out;
}

/** What ffmpeg receives: the packets of every frame of `out`, each parsed. */
function received(out: Buffer[]) {
  return [...framesIn(Buffer.concat(out))].map((f) => ({ channel: f.channel, rtp: parseRtp(f.payload)! }));
}

/** The receiving side's depacketizer, reduced: NAL units rebuilt from single packets and FU-A fragments. */
function nalsOf(packets: ReturnType<typeof received>): Buffer[] {
  const nals: Buffer[] = [];
  let cur: Buffer[] | null = null;
  for (const { rtp: r } of packets) {
    const p = r.payload;
    if ((p[0]! & 0x1f) !== 28) {
      nals.push(Buffer.from(p));
      continue;
    }
    if (p[1]! & 0x80) cur = [Buffer.from([(p[0]! & 0xe0) | (p[1]! & 0x1f)])];
    cur?.push(p.subarray(2));
    if (p[1]! & 0x40 && cur) {
      nals.push(Buffer.concat(cur));
      cur = null;
    }
  }
  return nals;
}

describe('mergeablePayloadTypes', () => {
  it('finds H.264 and H.265 video, not audio, and not H.265 with decoding order numbers', () => {
    const sdp = [
      'v=0',
      'm=video 0 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      'm=video 0 RTP/AVP 98',
      'a=rtpmap:98 H265/90000',
      'a=rtpmap:99 H265/90000',
      'a=fmtp:99 sprop-max-don-diff=2',
      'm=audio 0 RTP/AVP 0 97',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:97 MPEG4-GENERIC/16000/1',
    ].join('\r\n');
    expect([...mergeablePayloadTypes(sdp)]).toEqual([
      [96, 'h264'],
      [98, 'h265'],
    ]);
  });
});

describe('FragmentMerger', () => {
  it('joins the FU-A fragments of each NAL unit into one packet: same NAL units, timestamps, markers', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]));
    const sps = nal264(7, 20);
    const idr = nal264(5, 30_000);
    const p1 = nal264(1, 9_000, 2);
    const out: Buffer[] = [];
    let seq = 65_530; // wraps
    m.push(0, rtp(seq++, 1000, sps), out);
    const idrFrags = fuA(idr, 1400);
    idrFrags.forEach((f, i) => m.push(0, rtp(seq++, 1000, f, { marker: i === idrFrags.length - 1 }), out));
    const pFrags = fuA(p1, 1400);
    pFrags.forEach((f, i) => m.push(0, rtp(seq++, 4600, f, { marker: i === pFrags.length - 1 }), out));
    const got = received(out);
    expect(got).toHaveLength(3); // instead of 1 + 22 + 7
    expect(nalsOf(got)).toEqual([sps, idr, p1]);
    expect(got.map((g) => g.rtp.ts)).toEqual([1000, 1000, 4600]);
    expect(got.map((g) => g.rtp.marker)).toEqual([false, true, true]);
    expect(got.map((g) => g.rtp.ssrc)).toEqual([SSRC, SSRC, SSRC]);
    // Numbers the proxy's own, contiguous from the camera's first.
    expect(got.map((g) => g.rtp.seq)).toEqual([65_530, 65_531, 65_532]);
  });

  it('a NAL unit above the limit goes on as fragments no larger than the limit', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]), 10_000);
    const idr = nal264(5, 25_000);
    const out: Buffer[] = [];
    fuA(idr, 1200).forEach((f, i, all) => m.push(2, rtp(100 + i, 9, f, { marker: i === all.length - 1 }), out));
    const got = received(out);
    expect(got.length).toBe(3);
    expect(got.every((g) => g.channel === 2 && g.rtp.payload.length <= 10_000)).toBe(true);
    expect(got.map((g) => g.rtp.marker)).toEqual([false, false, true]);
    expect(nalsOf(got)).toEqual([idr]);
  });

  it('H.265: fragments (type 49) become the NAL unit with its two-byte header', () => {
    const m = new FragmentMerger(new Map([[98, 'h265']]));
    const nal = Buffer.alloc(8_000, 0x5a);
    nal[0] = 19 << 1; // IDR_W_RADL
    nal[1] = 1;
    const out: Buffer[] = [];
    fuH265(nal, 1400).forEach((f, i, all) =>
      m.push(0, rtp(7 + i, 3, f, { pt: 98, marker: i === all.length - 1 }), out),
    );
    const got = received(out);
    expect(got).toHaveLength(1);
    expect(got[0]!.rtp.payload).toEqual(nal);
    expect(got[0]!.rtp.marker).toBe(true);
  });

  it('a fragment lost on the way drops its NAL unit and leaves a gap in the numbers; the next one is whole', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]));
    const a = nal264(1, 5_000);
    const b = nal264(1, 5_000);
    const out: Buffer[] = [];
    const fa = fuA(a, 1400);
    let seq = 10;
    fa.forEach((f, i) => {
      if (i !== 2) m.push(0, rtp(seq, 90, f), out);
      seq++;
    });
    fuA(b, 1400).forEach((f, i, all) => m.push(0, rtp(seq++, 180, f, { marker: i === all.length - 1 }), out));
    const got = received(out);
    expect(nalsOf(got)).toEqual([b]);
    expect(got[0]!.rtp.seq).toBe(11); // 10 would follow an unbroken run: ffmpeg learns one was lost
  });

  it('a fragment without its start, or a start whose timestamp changes, is not joined to anything', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]));
    const a = fuA(nal264(1, 3_000), 1400);
    const out: Buffer[] = [];
    m.push(0, rtp(1, 5, a[1]!), out);
    m.push(0, rtp(2, 5, a[2]!), out);
    m.push(0, rtp(3, 6, a[0]!), out);
    m.push(0, rtp(4, 7, a[1]!), out);
    m.push(0, rtp(5, 7, a[2]!), out);
    expect(out).toEqual([]);
  });

  it('passes as it came: audio, RTCP, other payload types, whole NAL units (header extension kept, renumbered), and anything not RTP', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]));
    const out: Buffer[] = [];
    const audio = rtp(500, 1, Buffer.alloc(160, 0xff), { pt: 0 });
    const rtcp = Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)]);
    const junk = Buffer.from('not rtp at all');
    m.push(2, audio, out);
    m.push(1, rtcp, out);
    m.push(0, junk, out);
    // A whole NAL with a header extension (ONVIF replay): kept byte for byte but for the sequence number.
    const ext = Buffer.concat([Buffer.from([0xab, 0xac, 0, 1]), Buffer.alloc(4, 9)]);
    const withExt = rtp(40, 2, Buffer.concat([ext, nal264(1, 50)]));
    withExt[0] = 0x90;
    m.push(0, withExt, out);
    const frames = [...framesIn(Buffer.concat(out))];
    expect(frames.map((f) => f.channel)).toEqual([2, 1, 0, 0]);
    expect(frames[0]!.payload).toEqual(audio);
    expect(frames[1]!.payload).toEqual(rtcp);
    expect(frames[2]!.payload).toEqual(junk);
    const w = Buffer.from(frames[3]!.payload);
    expect(w.readUInt16BE(2)).toBe(40);
    expect(w).toEqual(withExt);
  });

  it('hostile packets end nothing: truncated headers, an extension past the end, padding longer than the packet', () => {
    const m = new FragmentMerger(new Map([[96, 'h264']]));
    const out: Buffer[] = [];
    const bad = [
      Buffer.from([0x80, 96, 0, 1]),
      Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xab, 0xac, 0xff, 0xff]),
      Buffer.from([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 28, 255]),
      rtp(9, 9, Buffer.from([28])), // FU-A without its header byte
      rtp(10, 9, Buffer.alloc(0)),
    ];
    for (const b of bad) expect(() => m.push(0, b, out)).not.toThrow();
    expect([...framesIn(Buffer.concat(out))].length).toBe(bad.length);
  });
});
