/**
 * Whole NAL units on the loopback leg (issue 14: the recorder's CPU).
 *
 * Cameras send H.264/H.265 in RTP packets of ~1,400 bytes: a 1080p picture at 4 Mbit/s is ~370 packets a
 * second, most of them fragments (FU-A, RFC 6184; FU, RFC 7798) of one slice. ffmpeg reads RTP over TCP
 * with three small reads per packet (the `$`, the rest of the frame header, the packet), each after a poll:
 * half of a copying ffmpeg's CPU was those system calls. Between the source proxy and ffmpeg the packets
 * ride a loopback TCP connection, where the MTU means nothing and an interleaved frame holds up to 64 KiB,
 * so the proxy joins each NAL unit's fragments and hands ffmpeg one packet per NAL unit (re-fragmented only
 * above `maxPayload`). Measured against GStreamer's payloader at MTU 60,000 instead of 1,400: a copying
 * ffmpeg's CPU went from 0.86 to 0.47 % of a core.
 *
 * The pictures are unchanged: the same NAL units, the same RTP timestamps, marker bits and SSRC. Sequence
 * numbers are the proxy's own (contiguous, so ffmpeg sees no loss that did not happen); a fragment lost on
 * the camera's side (UDP) drops its NAL unit, as the depacketizer would, and leaves a gap in the numbers so
 * ffmpeg knows. Anything that is not a video payload type of the SDP, or not well-formed RTP, passes as it
 * came. A pure state machine: no I/O, no clock.
 */

import { frame } from './rtsp-wire.ts';

export type VideoCodec = 'h264' | 'h265';

/** Largest RTP payload handed to ffmpeg (its RTSP-over-TCP receive buffer is 80 KiB; a frame's length is 16 bits). */
export const MERGED_MAX_PAYLOAD = 60_000;
/** A NAL unit larger than this is dropped rather than collected (a 4K intra slice is well under). */
const MAX_NAL_BYTES = 4 * 1024 * 1024;

/**
 * The dynamic payload types of an SDP that carry H.264 or H.265 and can be merged. A stream whose H.265
 * carries decoding order numbers (`sprop-max-don-diff` > 0) keeps its packets: its fragments hold a DONL field.
 */
export function mergeablePayloadTypes(sdp: string): Map<number, VideoCodec> {
  const out = new Map<number, VideoCodec>();
  const donl = new Set<number>();
  for (const line of sdp.split(/\r?\n/)) {
    const map = /^a=rtpmap:(\d+)\s+(H264|H265|HEVC)\/90000/i.exec(line);
    if (map) out.set(Number(map[1]), map[2]!.toUpperCase() === 'H264' ? 'h264' : 'h265');
    const fmtp = /^a=fmtp:(\d+)\s.*\bsprop-max-don-diff=(\d+)/i.exec(line);
    if (fmtp && Number(fmtp[2]) > 0) donl.add(Number(fmtp[1]));
  }
  for (const pt of donl) out.delete(pt);
  return out;
}

interface Collecting {
  /** The first fragment's RTP header fields. */
  ts: number;
  ssrc: number;
  pt: number;
  nalHeader: Buffer;
  parts: Buffer[];
  bytes: number;
}

interface ChannelState {
  outSeq: number | null;
  lastInSeq: number | null;
  collecting: Collecting | null;
}

export class FragmentMerger {
  readonly #codecs: Map<number, VideoCodec>;
  readonly #maxPayload: number;
  readonly #channels = new Map<number, ChannelState>();

  constructor(codecs: Map<number, VideoCodec>, maxPayload = MERGED_MAX_PAYLOAD) {
    if (!(maxPayload >= 64 && maxPayload <= 65_000)) throw new Error('maxPayload out of range');
    this.#codecs = codecs;
    this.#maxPayload = maxPayload;
  }

  /** One packet of an interleaved channel in; the interleaved frames to send on appended to `out`. */
  push(channel: number, packet: Buffer, out: Buffer[]): void {
    const rtp = parseRtp(packet);
    const codec = rtp ? this.#codecs.get(rtp.pt) : undefined;
    if (!rtp || !codec || rtp.payload.length < (codec === 'h264' ? 1 : 2)) {
      out.push(frame(channel, packet));
      return;
    }
    let st = this.#channels.get(channel);
    if (!st) {
      st = { outSeq: rtp.seq, lastInSeq: null, collecting: null };
      this.#channels.set(channel, st);
    }
    if (st.lastInSeq !== null && rtp.seq !== ((st.lastInSeq + 1) & 0xffff)) {
      // Lost (or reordered) on the camera's side: a NAL unit being collected is incomplete.
      if (st.collecting) st.collecting = null;
      st.outSeq = (st.outSeq! + 1) & 0xffff;
    }
    st.lastInSeq = rtp.seq;
    const p = rtp.payload;
    // A fragment: its FU header byte and where its share of the NAL unit begins (2 bytes in, 3 for H.265).
    const fuAt =
      codec === 'h264'
        ? (p[0]! & 0x1f) === 28 && p.length >= 2
          ? 1
          : 0
        : ((p[0]! >> 1) & 0x3f) === 49 && p.length >= 3
          ? 2
          : 0;
    if (!fuAt) {
      // A whole NAL unit or an aggregate: as it came (header extensions and all), renumbered.
      st.collecting = null;
      const f = frame(channel, packet);
      f.writeUInt16BE(st.outSeq!, 4 + 2);
      st.outSeq = (st.outSeq! + 1) & 0xffff;
      out.push(f);
      return;
    }
    const fu = { hdr: p[fuAt]!, body: p.subarray(fuAt + 1) };
    const start = (fu.hdr & 0x80) !== 0;
    const end = (fu.hdr & 0x40) !== 0;
    if (start) {
      st.collecting = {
        ts: rtp.ts,
        ssrc: rtp.ssrc,
        pt: rtp.pt,
        // The NAL unit's own header, rebuilt from the fragment's (only the type moved into the FU header).
        nalHeader:
          codec === 'h264'
            ? Buffer.from([(p[0]! & 0xe0) | (p[1]! & 0x1f)])
            : Buffer.from([(p[0]! & 0x81) | ((p[2]! & 0x3f) << 1), p[1]!]),
        parts: [fu.body],
        bytes: fu.body.length,
      };
    } else if (st.collecting && st.collecting.ts === rtp.ts) {
      st.collecting.parts.push(fu.body);
      st.collecting.bytes += fu.body.length;
      if (st.collecting.bytes > MAX_NAL_BYTES) st.collecting = null;
    } else {
      // A middle or last fragment whose start was never seen: nothing to join it to.
      st.collecting = null;
      return;
    }
    if (!end || !st.collecting) return;
    const c = st.collecting;
    st.collecting = null;
    this.#emit(channel, st, c, rtp.marker, [c.nalHeader, ...c.parts], codec, out);
  }

  /** Sends one NAL unit (`parts` start with its header) as one packet, or as fragments above the limit. */
  #emit(
    channel: number,
    st: ChannelState,
    h: { ts: number; ssrc: number; pt: number },
    marker: boolean,
    parts: Buffer[],
    codec: VideoCodec,
    out: Buffer[],
  ): void {
    const total = parts.reduce((a, b) => a + b.length, 0);
    const next = () => {
      const s = st.outSeq!;
      st.outSeq = (s + 1) & 0xffff;
      return s;
    };
    if (total <= this.#maxPayload) {
      out.push(frame(channel, rtpHeader(h, marker, next()), ...parts));
      return;
    }
    const nal = Buffer.concat(parts, total);
    const headLen = codec === 'h264' ? 1 : 2;
    const type = codec === 'h264' ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f;
    const indicator =
      codec === 'h264' ? Buffer.from([(nal[0]! & 0xe0) | 28]) : Buffer.from([(nal[0]! & 0x81) | (49 << 1), nal[1]!]);
    const room = this.#maxPayload - headLen - 1;
    for (let off = headLen; off < nal.length; off += room) {
      const last = off + room >= nal.length;
      const fuHeader = Buffer.from([(off === headLen ? 0x80 : 0) | (last ? 0x40 : 0) | type]);
      out.push(
        frame(
          channel,
          rtpHeader(h, marker && last, next()),
          indicator,
          fuHeader,
          nal.subarray(off, Math.min(off + room, nal.length)),
        ),
      );
    }
  }
}

interface Rtp {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
}

/** The fields of an RTP packet (RFC 3550), or null when it is not well-formed version 2. */
export function parseRtp(b: Buffer): Rtp | null {
  if (b.length < 12 || b[0]! >> 6 !== 2) return null;
  let off = 12 + 4 * (b[0]! & 0x0f);
  if (b[0]! & 0x10) {
    if (off + 4 > b.length) return null;
    off += 4 + 4 * b.readUInt16BE(off + 2);
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (off > end) return null;
  return {
    pt: b[1]! & 0x7f,
    marker: (b[1]! & 0x80) !== 0,
    seq: b.readUInt16BE(2),
    ts: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(off, end),
  };
}

/** A plain 12-byte RTP header (no CSRC, extension or padding). */
function rtpHeader(h: { ts: number; ssrc: number; pt: number }, marker: boolean, seq: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | h.pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(h.ts, 4);
  b.writeUInt32BE(h.ssrc, 8);
  return b;
}
