/**
 * An MPEG-TS writer for one video elementary stream (ISO/IEC 13818-1), for the in-process recorder (issue 14).
 * Pure: access units in, 188-byte packets out; no clock, no I/O.
 *
 * What it writes is what a copying ffmpeg writes for a camera's picture, and what players and the concat
 * demuxer read: PAT and PMT at the start of every segment and before every keyframe, one PES per access unit
 * (Annex B start codes, an access unit delimiter first), a PCR in the first packet of each PES, the random
 * access flag on keyframes, continuity counters per PID. PTS only (cameras do not send B-frames; with PTS
 * alone a decoder takes DTS = PTS, as ffmpeg's RTSP demuxer does for them).
 */

export type TsCodec = 'h264' | 'h265';

export const TS_PACKET = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
export const VIDEO_PID = 0x0100;
const STREAM_TYPE: Record<TsCodec, number> = { h264: 0x1b, h265: 0x24 };
/** Start code before each NAL unit. */
const START_CODE = Buffer.from([0, 0, 0, 1]);
/** Access unit delimiters: H.264 (type 9, any slice type), H.265 (type 35, any picture type). */
const AUD: Record<TsCodec, Buffer> = {
  h264: Buffer.from([0, 0, 0, 1, 0x09, 0xf0]),
  h265: Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]),
};
/** The PCR runs this far behind the PTS (ffmpeg's default mux delay, 0.7 s), so a decoder never sees a late frame. */
export const PCR_DELAY_90K = 63_000;
const MAX_33 = 2 ** 33;

let crcTable: Uint32Array | undefined;
/** CRC-32/MPEG-2 of PSI sections (polynomial 0x04C11DB7, not reflected, no final xor). */
export function crc32mpeg(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const x of b) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ x) & 0xff]!) >>> 0;
  return crc >>> 0;
}

function section(body: number[]): Buffer {
  const s = Buffer.from(body);
  const out = Buffer.alloc(s.length + 4);
  s.copy(out);
  out.writeUInt32BE(crc32mpeg(s), s.length);
  return out;
}

/** The 33-bit PTS field of a PES header (marker bits set), prefix 0b0010. */
function writePts(b: Buffer, at: number, pts: number): void {
  const hi = Math.floor(pts / 2 ** 30) & 0x07; // bits 32..30
  const lo = pts % 2 ** 30; // bits 29..0
  b[at] = 0x21 | (hi << 1);
  b[at + 1] = (lo >>> 22) & 0xff;
  b[at + 2] = ((lo >>> 14) & 0xfe) | 1;
  b[at + 3] = (lo >>> 7) & 0xff;
  b[at + 4] = ((lo << 1) & 0xfe) | 1;
}

/** A 6-byte PCR (33-bit base in 90 kHz, extension 0). */
function writePcr(b: Buffer, at: number, base: number): void {
  const hi = Math.floor(base / 2); // bits 32..1
  b.writeUInt32BE(hi >>> 0, at);
  b[at + 4] = ((base & 1) << 7) | 0x7e;
  b[at + 5] = 0;
}

export interface TsAccessUnit {
  /**
   * NAL units without start codes (parameter sets, slices, SEI), each as the pieces it arrived in (the first
   * begins with the NAL header): a fragmented unit is copied once, into the packets, never joined first.
   * Access unit delimiters are added here.
   */
  nals: readonly (readonly Buffer[])[];
  /** Presentation time, 90 kHz, any non-negative value (taken modulo 2^33). */
  pts90k: number;
  keyframe: boolean;
}

export class TsMuxer {
  readonly #codec: TsCodec;
  readonly #cc = new Map<number, number>();
  readonly #pesHeader = Buffer.alloc(14);

  constructor(codec: TsCodec) {
    this.#codec = codec;
  }

  #nextCc(pid: number): number {
    const c = this.#cc.get(pid) ?? 0;
    this.#cc.set(pid, (c + 1) & 0x0f);
    return c;
  }

  #psiPacket(pid: number, sec: Buffer): Buffer {
    const p = Buffer.alloc(TS_PACKET, 0xff);
    p[0] = 0x47;
    p[1] = 0x40 | ((pid >> 8) & 0x1f);
    p[2] = pid & 0xff;
    p[3] = 0x10 | this.#nextCc(pid);
    p[4] = 0; // pointer field
    sec.copy(p, 5);
    return p;
  }

  /** PAT and PMT: the first two packets of every segment, and again before each keyframe. */
  tables(): Buffer {
    // prettier-ignore
    const pat = section([
      0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00,
      0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff,
    ]);
    // prettier-ignore
    const pmt = section([
      0x02, 0xb0, 18, 0x00, 0x01, 0xc1, 0x00, 0x00,
      0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
      STREAM_TYPE[this.#codec], 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00,
    ]);
    return Buffer.concat([this.#psiPacket(PAT_PID, pat), this.#psiPacket(PMT_PID, pmt)]);
  }

  /** One access unit as TS packets (tables first on a keyframe). */
  accessUnit(au: TsAccessUnit): Buffer {
    const pts = ((Math.floor(au.pts90k) % MAX_33) + MAX_33) % MAX_33;
    // The PES: its header (video stream 0xE0, unbounded length, data aligned, PTS only), a delimiter, then
    // a start code before each NAL unit; kept as a list of pieces and copied once, into the packets.
    const h = this.#pesHeader;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = 0xe0;
    h[4] = 0;
    h[5] = 0;
    h[6] = 0x84;
    h[7] = 0x80;
    h[8] = 5;
    writePts(h, 9, pts);
    const pieces: Buffer[] = [h, AUD[this.#codec]];
    for (const nal of au.nals) {
      pieces.push(START_CODE);
      for (const part of nal) if (part.length) pieces.push(part);
    }
    let total = 0;
    for (const piece of pieces) total += piece.length;
    const tables = au.keyframe ? this.tables() : null;
    const pcr = (((pts - PCR_DELAY_90K) % MAX_33) + MAX_33) % MAX_33;
    // The first packet carries an adaptation field of 8 bytes (length, flags, PCR): 176 bytes of PES.
    const packets = total <= 176 ? 1 : 1 + Math.ceil((total - 176) / 184);
    const out = Buffer.allocUnsafe((tables ? tables.length : 0) + packets * TS_PACKET);
    let o = 0;
    if (tables) o += tables.copy(out, 0);
    let left = total;
    let pi = 0;
    let po = 0;
    for (let i = 0; i < packets; i++) {
      const first = i === 0;
      const base = first ? 8 : 0;
      // Adaptation field bytes (its length byte included): the PCR's on the first packet, stuffing on the last.
      const af = left < 184 - base ? 184 - left : base;
      out[o] = 0x47;
      out[o + 1] = (first ? 0x40 : 0) | ((VIDEO_PID >> 8) & 0x1f);
      out[o + 2] = VIDEO_PID & 0xff;
      out[o + 3] = (af > 0 ? 0x30 : 0x10) | this.#nextCc(VIDEO_PID);
      let p = o + 4;
      if (af > 0) {
        out[p] = af - 1;
        if (af > 1) {
          out[p + 1] = first ? 0x10 | (au.keyframe ? 0x40 : 0) : 0x00;
          let q = p + 2;
          if (first) {
            writePcr(out, q, pcr);
            q += 6;
          }
          out.fill(0xff, q, p + af);
        }
        p += af;
      }
      const end = o + TS_PACKET;
      left -= end - p;
      while (p < end) {
        const piece = pieces[pi]!;
        const n = Math.min(piece.length - po, end - p);
        piece.copy(out, p, po, po + n);
        p += n;
        po += n;
        if (po === piece.length) {
          pi++;
          po = 0;
        }
      }
      o = end;
    }
    return out;
  }
}
