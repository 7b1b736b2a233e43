/**
 * H.264 Annex-B handling and RTP packetization (RFC 6184, packetization-mode=1): single NAL unit
 * packets for small NALs, FU-A fragments for large ones, marker bit on the last packet of an access unit.
 */

export const NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

export const nalType = (nal: Buffer): number => (nal[0] ?? 0) & 0x1f;

/** NAL units of an Annex-B byte stream, start codes (3 or 4 bytes) removed; trailing zero bytes trimmed. */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const starts: number[] = [];
  const n = buf.length;
  for (let i = 0; i + 2 < n;) {
    if (buf[i + 2]! > 1) i += 3;
    else if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      starts.push(i + 3);
      i += 3;
    } else i++;
  }
  const out: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    let e = k + 1 < starts.length ? starts[k + 1]! - 3 : n;
    while (e > s && buf[e - 1] === 0) e--;
    if (e > s) out.push(buf.subarray(s, e));
  }
  return out;
}

export interface AccessUnit {
  nals: Buffer[];
  idr: boolean;
}

const isVcl = (t: number) => t >= 1 && t <= 5;

/** Groups NAL units into access units (ITU-T H.264 7.4.1.2.3): a new picture starts at AUD/SPS/PPS/SEI or at a slice with first_mb_in_slice = 0. */
export function groupAccessUnits(nals: Buffer[]): AccessUnit[] {
  const aus: AccessUnit[] = [];
  let cur: AccessUnit = { nals: [], idr: false };
  let hasVcl = false;
  for (const nal of nals) {
    const t = nalType(nal);
    const firstMb = isVcl(t) && nal.length > 1 && (nal[1]! & 0x80) !== 0;
    const startsNew =
      hasVcl && (t === NAL.AUD || t === NAL.SPS || t === NAL.PPS || t === NAL.SEI || (t >= 14 && t <= 18) || firstMb);
    if (startsNew) {
      aus.push(cur);
      cur = { nals: [], idr: false };
      hasVcl = false;
    }
    cur.nals.push(nal);
    if (isVcl(t)) hasVcl = true;
    if (t === NAL.IDR) cur.idr = true;
  }
  if (cur.nals.length) aus.push(cur);
  return aus;
}

/** Exp-Golomb bit reader over an RBSP (emulation prevention bytes removed). */
export class BitReader {
  readonly #b: Buffer;
  #pos = 0;
  constructor(b: Buffer) {
    this.#b = b;
  }
  /** Bits read so far. */
  get pos(): number {
    return this.#pos;
  }
  bit(): number {
    const byte = this.#b[this.#pos >> 3];
    if (byte === undefined) throw new Error('H.264 header truncated');
    const v = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return v;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) if (++zeros > 31) throw new Error('bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : k ? -k / 2 : 0;
  }
}

/** Bit writer for the few syntax elements the simulator writes itself (SEI, the clock band's slices). */
export class BitWriter {
  #buf: Buffer;
  #bits = 0;

  /** `capacity`: bytes to start with (it grows as needed). */
  constructor(capacity = 256) {
    this.#buf = Buffer.alloc(capacity);
  }

  get length(): number {
    return this.#bits;
  }

  /** Empties the writer, keeping its buffer (one writer serves every picture of a stream). */
  reset(): this {
    this.#buf.fill(0, 0, (this.#bits + 7) >> 3);
    this.#bits = 0;
    return this;
  }

  #room(bits: number): void {
    const need = (this.#bits + bits + 7) >> 3;
    if (need <= this.#buf.length) return;
    const next = Buffer.alloc(Math.max(need, this.#buf.length * 2));
    this.#buf.copy(next);
    this.#buf = next;
  }

  bit(v: number): this {
    this.#room(1);
    if (v) this.#buf[this.#bits >> 3]! |= 0x80 >> (this.#bits & 7);
    this.#bits++;
    return this;
  }

  /** `n` bits of `v` (n ≤ 32), most significant first. */
  u(n: number, v: number): this {
    this.#room(n);
    for (let i = n - 1; i >= 0; i--) {
      if ((v >>> i) & 1) this.#buf[this.#bits >> 3]! |= 0x80 >> (this.#bits & 7);
      this.#bits++;
    }
    return this;
  }

  ue(v: number): this {
    const x = v + 1;
    const len = 31 - Math.clz32(x);
    this.#room(len);
    this.#bits += len; // leading zeros (the buffer is zeroed)
    return this.u(len + 1, x);
  }

  se(v: number): this {
    return this.ue(v <= 0 ? -2 * v : 2 * v - 1);
  }

  /** Zero bits up to the next byte boundary. */
  align(): this {
    this.#room(7);
    this.#bits = (this.#bits + 7) & ~7;
    return this;
  }

  /** Whole bytes, `src[start, start + length)`; the writer must be byte aligned. */
  bytes(src: Uint8Array, start = 0, length = src.length - start): this {
    if (this.#bits & 7) throw new Error('BitWriter.bytes needs byte alignment');
    this.#room(length * 8);
    const buf = this.#buf;
    const at = this.#bits >> 3;
    if (length >= 64) buf.set(src.subarray(start, start + length), at);
    else for (let i = 0; i < length; i++) buf[at + i] = src[start + i]!;
    this.#bits += length * 8;
    return this;
  }

  /** Bits [from, to) of `src` copied as they are. */
  copyBits(src: Buffer, from: number, to: number): this {
    for (let i = from; i < to; i++) this.bit((src[i >> 3]! >> (7 - (i & 7))) & 1);
    return this;
  }

  /** rbsp_trailing_bits (stop bit, zero alignment); the bytes written, a view of the writer's buffer. */
  finish(): Buffer {
    this.bit(1).align();
    return this.#buf.subarray(0, this.#bits >> 3);
  }
}

const ZERO_ZERO = Buffer.from([0, 0]);

/** Emulation prevention (ITU-T H.264 7.4.1): 0x03 after two zero bytes when the next byte is 0..3. */
export function escapeRbsp(rbsp: Buffer): Buffer {
  // Most payloads (the clock band's samples) hold no two zero bytes in a row: find that natively first.
  if (rbsp.indexOf(ZERO_ZERO) < 0) return rbsp;
  let zeros = 0;
  let extra = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      extra++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (!extra) return rbsp;
  const out = Buffer.allocUnsafe(rbsp.length + extra);
  let n = 0;
  zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out[n++] = 3;
      zeros = 0;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}

export function unescapeRbsp(nal: Buffer): Buffer {
  const out = Buffer.allocUnsafe(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

export interface SpsInfo {
  profileIdc: number;
  levelIdc: number;
  width: number;
  height: number;
  /** Coded size in macroblocks (before cropping). */
  widthMbs: number;
  heightMbs: number;
  /** What a slice header needs to be read (7.3.3). */
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
}

export function parseSps(sps: Buffer): SpsInfo {
  const r = new BitReader(unescapeRbsp(sps.subarray(1)));
  const profileIdc = r.bits(8);
  r.bits(8); // constraint flags
  const levelIdc = r.bits(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) r.bit();
    r.ue();
    r.ue();
    r.bit();
    if (r.bit()) {
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) {
        if (r.bit()) {
          let last = 8;
          let next = 8;
          for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
            if (next !== 0) next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  if (pocType === 0) log2MaxPocLsb = r.ue() + 4;
  else if (pocType === 1) {
    deltaPicOrderAlwaysZero = r.bit() === 1;
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit();
  const wMbs = r.ue() + 1;
  const hMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit();
  r.bit();
  let cl = 0,
    cr = 0,
    ct = 0,
    cb = 0;
  if (r.bit()) {
    cl = r.ue();
    cr = r.ue();
    ct = r.ue();
    cb = r.ue();
  }
  const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subH = chromaFormatIdc === 1 ? 2 : 1;
  const cropX = chromaFormatIdc === 0 ? 1 : subW;
  const cropY = (chromaFormatIdc === 0 ? 1 : subH) * (2 - frameMbsOnly);
  return {
    profileIdc,
    levelIdc,
    width: wMbs * 16 - cropX * (cl + cr),
    height: (2 - frameMbsOnly) * hMapUnits * 16 - cropY * (ct + cb),
    widthMbs: wMbs,
    heightMbs: (2 - frameMbsOnly) * hMapUnits,
    log2MaxFrameNum,
    pocType,
    log2MaxPocLsb,
    deltaPicOrderAlwaysZero,
    frameMbsOnly: frameMbsOnly === 1,
  };
}

/** The PPS fields a slice header depends on (7.3.2.2). */
export interface PpsInfo {
  entropyCabac: boolean;
  bottomFieldPicOrderInFramePresent: boolean;
  weightedPred: boolean;
  weightedBipredIdc: number;
  deblockingFilterControlPresent: boolean;
  redundantPicCntPresent: boolean;
}

export function parsePps(pps: Buffer): PpsInfo {
  const r = new BitReader(unescapeRbsp(pps.subarray(1)));
  r.ue(); // pic_parameter_set_id
  r.ue(); // seq_parameter_set_id
  const entropyCabac = r.bit() === 1;
  const bottomFieldPicOrderInFramePresent = r.bit() === 1;
  const sliceGroups = r.ue() + 1;
  if (sliceGroups > 1) throw new Error('PPS with slice groups (FMO) is not supported');
  r.ue(); // num_ref_idx_l0_default_active_minus1
  r.ue(); // num_ref_idx_l1_default_active_minus1
  const weightedPred = r.bit() === 1;
  const weightedBipredIdc = r.bits(2);
  r.se(); // pic_init_qp_minus26
  r.se(); // pic_init_qs_minus26
  r.se(); // chroma_qp_index_offset
  const deblockingFilterControlPresent = r.bit() === 1;
  r.bit(); // constrained_intra_pred_flag
  const redundantPicCntPresent = r.bit() === 1;
  return {
    entropyCabac,
    bottomFieldPicOrderInFramePresent,
    weightedPred,
    weightedBipredIdc,
    deblockingFilterControlPresent,
    redundantPicCntPresent,
  };
}

/**
 * Where a slice header's picture-wide part lies: everything after first_mb_in_slice up to (not including)
 * slice_qp_delta — slice type, PPS id, frame_num, idr_pic_id, POC, reference list and marking fields,
 * which every slice of one picture must repeat alike (7.4.3). A slice the simulator adds to a picture
 * copies these bits from the encoder's first slice.
 */
export interface SliceHeaderInfo {
  firstMb: number;
  sliceType: number;
  /** The slice's RBSP (NAL header byte removed), and the bit range to copy from it. */
  rbsp: Buffer;
  from: number;
  to: number;
}

export function parseSliceHeader(nal: Buffer, sps: SpsInfo, pps: PpsInfo): SliceHeaderInfo {
  const nalType = nal[0]! & 0x1f;
  const nalRefIdc = (nal[0]! >> 5) & 3;
  const rbsp = unescapeRbsp(nal.subarray(1, Math.min(nal.length, 64)));
  const r = new BitReader(rbsp);
  const firstMb = r.ue();
  const from = r.pos;
  const sliceType = r.ue() % 5;
  if (sliceType !== 0 && sliceType !== 2) throw new Error(`slice type ${sliceType} is not supported (only I and P)`);
  if (pps.entropyCabac) throw new Error('CABAC streams are not supported');
  r.ue(); // pic_parameter_set_id
  r.bits(sps.log2MaxFrameNum); // frame_num
  let field = false;
  if (!sps.frameMbsOnly) {
    field = r.bit() === 1;
    if (field) r.bit();
  }
  if (nalType === NAL.IDR) r.ue(); // idr_pic_id
  if (sps.pocType === 0) {
    r.bits(sps.log2MaxPocLsb);
    if (pps.bottomFieldPicOrderInFramePresent && !field) r.se();
  } else if (sps.pocType === 1 && !sps.deltaPicOrderAlwaysZero) {
    r.se();
    if (pps.bottomFieldPicOrderInFramePresent && !field) r.se();
  }
  if (pps.redundantPicCntPresent) r.ue();
  if (sliceType === 0) {
    if (r.bit()) r.ue(); // num_ref_idx_active_override_flag, num_ref_idx_l0_active_minus1
    if (r.bit()) {
      // ref_pic_list_modification_flag_l0
      for (let idc = r.ue(); idc !== 3; idc = r.ue()) r.ue();
    }
    if (pps.weightedPred) throw new Error('weighted prediction is not supported');
  }
  if (nalRefIdc !== 0) {
    if (nalType === NAL.IDR) r.bits(2);
    else if (r.bit()) {
      // adaptive_ref_pic_marking_mode_flag: memory management control operations until 0
      for (let op = r.ue(); op !== 0; op = r.ue()) {
        if (op === 1 || op === 3) r.ue();
        if (op === 2) r.ue();
        if (op === 3 || op === 6) r.ue();
        if (op === 4) r.ue();
      }
    }
  }
  return { firstMb, sliceType, rbsp, from, to: r.pos };
}

export interface H264Stream {
  aus: AccessUnit[];
  sps: Buffer;
  pps: Buffer;
  info: SpsInfo;
  /** SDP fmtp: six hex digits, profile_idc / constraint flags / level_idc straight from the SPS. */
  profileLevelId: string;
  spropParameterSets: string;
}

/** Parses a clip and makes every IDR access unit carry SPS and PPS, so a client can join at any keyframe. */
export function prepareStream(annexB: Buffer): H264Stream {
  const nals = splitAnnexB(annexB);
  const sps = nals.find((n) => nalType(n) === NAL.SPS);
  const pps = nals.find((n) => nalType(n) === NAL.PPS);
  if (!sps || !pps || sps.length < 4) throw new Error('H.264 stream has no SPS/PPS');
  const aus = groupAccessUnits(nals).filter((au) => au.nals.some((n) => isVcl(nalType(n))));
  for (const au of aus) {
    if (!au.idr) continue;
    const types = au.nals.map(nalType);
    const add: Buffer[] = [];
    if (!types.includes(NAL.SPS)) add.push(sps);
    if (!types.includes(NAL.PPS)) add.push(pps);
    if (add.length) au.nals = [...add, ...au.nals];
  }
  if (!aus.length) throw new Error('H.264 stream has no pictures');
  return {
    aus,
    sps,
    pps,
    info: parseSps(sps),
    profileLevelId: sps.subarray(1, 4).toString('hex').toUpperCase(),
    spropParameterSets: `${sps.toString('base64')},${pps.toString('base64')}`,
  };
}

/** One RTP payload: a small prefix (FU indicator + header, or nothing) and a slice of the NAL. */
export interface RtpPayload {
  head: Buffer;
  body: Buffer;
  marker: boolean;
}

const EMPTY = Buffer.alloc(0);

export function packetizeAccessUnit(au: AccessUnit, maxPayload = 1400): RtpPayload[] {
  const out: RtpPayload[] = [];
  au.nals.forEach((nal, i) => {
    const lastNal = i === au.nals.length - 1;
    if (nal.length <= maxPayload) {
      out.push({ head: EMPTY, body: nal, marker: lastNal });
      return;
    }
    const hdr = nal[0]!;
    const indicator = (hdr & 0xe0) | 28;
    const type = hdr & 0x1f;
    const chunk = maxPayload - 2;
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length);
      const start = off === 1;
      const stop = end === nal.length;
      const fuHeader = (start ? 0x80 : 0) | (stop ? 0x40 : 0) | type;
      out.push({ head: Buffer.from([indicator, fuHeader]), body: nal.subarray(off, end), marker: lastNal && stop });
    }
  });
  return out;
}

export const payloadSize = (p: RtpPayload) => p.head.length + p.body.length;

/** Writes one RTP packet (12-byte header, PT 96) at `off` in `dst`; returns the new offset. */
export function writeRtp(dst: Buffer, off: number, p: RtpPayload, seq: number, ts: number, ssrc: number): number {
  dst[off] = 0x80;
  dst[off + 1] = (p.marker ? 0x80 : 0) | 96;
  dst.writeUInt16BE(seq & 0xffff, off + 2);
  dst.writeUInt32BE(ts >>> 0, off + 4);
  dst.writeUInt32BE(ssrc >>> 0, off + 8);
  off += 12;
  off += p.head.copy(dst, off);
  off += p.body.copy(dst, off);
  return off;
}

/** All packets of one access unit framed for RTSP interleaved transport (RFC 2326 10.12), in one buffer. */
export function interleavedAccessUnit(
  payloads: readonly RtpPayload[],
  channel: number,
  seq: number,
  ts: number,
  ssrc: number,
): Buffer {
  let total = 0;
  for (const p of payloads) total += 4 + 12 + payloadSize(p);
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  let s = seq;
  for (const p of payloads) {
    buf[off] = 0x24;
    buf[off + 1] = channel;
    buf.writeUInt16BE(12 + payloadSize(p), off + 2);
    off = writeRtp(buf, off + 4, p, s++, ts, ssrc);
  }
  return buf;
}

export function rtpPacket(p: RtpPayload, seq: number, ts: number, ssrc: number): Buffer {
  const buf = Buffer.allocUnsafe(12 + payloadSize(p));
  writeRtp(buf, 0, p, seq, ts, ssrc);
  return buf;
}

/** RTCP sender report (RFC 3550 6.4.1) without report blocks. */
export function rtcpSenderReport(ssrc: number, wallMs: number, rtpTs: number, packets: number, octets: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  const ntpSec = Math.floor(wallMs / 1000) + 2208988800;
  const frac = Math.floor(((wallMs % 1000) / 1000) * 4294967296);
  b.writeUInt32BE(ntpSec >>> 0, 8);
  b.writeUInt32BE(frac >>> 0, 12);
  b.writeUInt32BE(rtpTs >>> 0, 16);
  b.writeUInt32BE(packets >>> 0, 20);
  b.writeUInt32BE(octets >>> 0, 24);
  return b;
}
