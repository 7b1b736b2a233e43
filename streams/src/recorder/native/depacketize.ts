/**
 * H.264 (RFC 6184) and H.265 (RFC 7798) RTP payloads back into access units, for the in-process recorder
 * (issue 14). Pure: packets in, access units out through a callback; no clock, no I/O.
 *
 * Handled: single NAL unit packets, aggregation packets (STAP-A; H.265 AP) and fragmentation units (FU-A;
 * H.265 FU). An access unit ends at the marker bit or when the timestamp changes. A fragment lost on the way
 * (a gap in sequence numbers) drops the NAL unit it belonged to, as a decoder's depacketizer does; the access
 * unit keeps what arrived whole. Sizes are capped, so a hostile sender can waste a picture but not memory.
 * Access unit delimiters are dropped (the muxer writes its own); every other NAL unit passes unchanged.
 */
import { parseRtp } from '../../rtp-merge.ts';
import type { TsCodec } from './ts-mux.ts';

export interface AccessUnit {
  /** RTP timestamp (90 kHz, 32 bits, wraps). */
  rtpTime: number;
  /** Each NAL unit as the pieces it arrived in, the first beginning with its header (never joined: copied once, by the muxer). */
  nals: Buffer[][];
  /** Holds an IDR picture (H.264 type 5) or an IRAP picture (H.265 types 16–21). */
  keyframe: boolean;
  /** Parameter sets carried in this access unit. */
  hasParams: { vps: boolean; sps: boolean; pps: boolean };
  /** A packet was lost while it arrived. */
  damaged: boolean;
}

/** Largest access unit collected (a 4K intra picture is well under). */
const MAX_AU_BYTES = 8 * 1024 * 1024;

export const nalType = (codec: TsCodec, nal: Buffer): number =>
  codec === 'h264' ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f;

export const isKeyNal = (codec: TsCodec, type: number): boolean =>
  codec === 'h264' ? type === 5 : type >= 16 && type <= 21;

/** Parameter-set kind of a NAL type, or null. */
export function paramKind(codec: TsCodec, type: number): 'vps' | 'sps' | 'pps' | null {
  if (codec === 'h264') return type === 7 ? 'sps' : type === 8 ? 'pps' : null;
  return type === 32 ? 'vps' : type === 33 ? 'sps' : type === 34 ? 'pps' : null;
}

const isAud = (codec: TsCodec, type: number) => (codec === 'h264' ? type === 9 : type === 35);

export class RtpDepacketizer {
  readonly #codec: TsCodec;
  readonly #pt: number;
  readonly #onAu: (au: AccessUnit) => void;
  #au: AccessUnit | null = null;
  #bytes = 0;
  #lastSeq: number | null = null;
  /** The fragmented NAL unit being joined: its parts, the first holding the rebuilt NAL header. */
  #fu: Buffer[] | null = null;
  #fuBytes = 0;

  constructor(codec: TsCodec, payloadType: number, onAccessUnit: (au: AccessUnit) => void) {
    this.#codec = codec;
    this.#pt = payloadType;
    this.#onAu = onAccessUnit;
  }

  /** One RTP packet; anything that is not well-formed RTP of the video payload type is ignored. */
  push(packet: Buffer): void {
    const rtp = parseRtp(packet);
    if (!rtp || rtp.pt !== this.#pt) return;
    const lost = this.#lastSeq !== null && rtp.seq !== ((this.#lastSeq + 1) & 0xffff);
    this.#lastSeq = rtp.seq;
    if (this.#au && this.#au.rtpTime !== rtp.ts) this.flush();
    if (!this.#au) {
      this.#au = {
        rtpTime: rtp.ts,
        nals: [],
        keyframe: false,
        hasParams: { vps: false, sps: false, pps: false },
        damaged: false,
      };
      this.#bytes = 0;
    }
    if (lost) {
      this.#au.damaged = true;
      this.#fu = null;
    }
    this.#payload(rtp.payload);
    if (rtp.marker) this.flush();
  }

  /** Hands over the access unit being collected (at the marker bit, a new timestamp, or the end). */
  flush(): void {
    const au = this.#au;
    this.#au = null;
    this.#fu = null;
    if (au && au.nals.length) this.#onAu(au);
  }

  #add(parts: Buffer[], length: number): void {
    const au = this.#au!;
    const nal = parts[0]!;
    if (nal.length < (this.#codec === 'h264' ? 1 : 2)) return;
    if ((nal[0]! & 0x80) !== 0) return; // forbidden_zero_bit
    const type = nalType(this.#codec, nal);
    if (isAud(this.#codec, type)) return;
    if (this.#bytes + length > MAX_AU_BYTES) {
      au.damaged = true;
      return;
    }
    this.#bytes += length;
    if (isKeyNal(this.#codec, type)) au.keyframe = true;
    const kind = paramKind(this.#codec, type);
    if (kind) au.hasParams[kind] = true;
    au.nals.push(parts);
  }

  #payload(p: Buffer): void {
    const h264 = this.#codec === 'h264';
    const head = h264 ? 1 : 2;
    if (p.length < head) return;
    const type = nalType(this.#codec, p);
    if ((h264 && type === 24) || (!h264 && type === 48)) {
      this.#fu = null;
      // Aggregation: 16-bit sizes, each followed by one NAL unit.
      for (let at = head; at + 2 <= p.length;) {
        const size = p.readUInt16BE(at);
        at += 2;
        if (size === 0 || at + size > p.length) break;
        this.#add([p.subarray(at, at + size)], size);
        at += size;
      }
      return;
    }
    if ((h264 && type === 28) || (!h264 && type === 49)) {
      if (p.length < head + 2) return;
      const fu = p[head]!;
      const body = p.subarray(head + 1);
      if (fu & 0x80) {
        const nalHeader = h264
          ? Buffer.from([(p[0]! & 0xe0) | (fu & 0x1f)])
          : Buffer.from([(p[0]! & 0x81) | ((fu & 0x3f) << 1), p[1]!]);
        this.#fu = [nalHeader, body];
        this.#fuBytes = nalHeader.length + body.length;
      } else if (this.#fu) {
        this.#fu.push(body);
        this.#fuBytes += body.length;
        if (this.#fuBytes > MAX_AU_BYTES) this.#fu = null;
      }
      if (fu & 0x40 && this.#fu) {
        const parts = this.#fu;
        this.#fu = null;
        this.#add(parts, this.#fuBytes);
      }
      return;
    }
    if (h264 ? type >= 1 && type <= 23 : type <= 47) {
      this.#fu = null;
      this.#add([p], p.length);
    }
    // STAP-B, MTAP, FU-B (H.264) and PACI (H.265) are not sent by cameras; they are left out.
  }
}
