/**
 * Fragmented MP4 as ffmpeg's mp4 muxer writes it for the low-latency live path (issue 15): a byte stream of
 * top-level boxes, `ftyp` + `moov` (the init segment a browser's MediaSource needs first), then `moof` + `mdat`
 * pairs (one fragment per frame with `frag_every_frame`). Pure functions and a push parser; nothing here does
 * I/O. Box layouts: ISO/IEC 14496-12 (moof/traf/tfhd/trun/tfdt, sample flags in 8.8.3.1) and 14496-15
 * (avcC, hvcC — for the RFC 6381 codec string MediaSource.addSourceBuffer takes).
 */

/** One complete top-level box, header included. */
export interface Mp4Box {
  type: string;
  data: Buffer;
}

/** A box bigger than this is not a frame of a camera stream: the byte stream is not what we think. */
export const MAX_BOX_BYTES = 32 * 1024 * 1024;

/** Splits a byte stream into whole top-level boxes, however the chunks fall. */
export class BoxSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The boxes completed by this chunk. Throws on a box size that cannot be (garbage, or a 64-bit size). */
  push(chunk: Buffer): Mp4Box[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < 8) return [];
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const out: Mp4Box[] = [];
    let off = 0;
    while (buf.length - off >= 8) {
      const size = buf.readUInt32BE(off);
      const type = buf.toString('latin1', off + 4, off + 8);
      // size 0 (to the end of the file) and 1 (64-bit size) never occur in ffmpeg's fragments of a live stream.
      if (size < 8 || size > MAX_BOX_BYTES) throw new Error(`fmp4: box "${type}" has an impossible size ${size}`);
      if (buf.length - off < size) break;
      out.push({ type, data: buf.subarray(off, off + size) });
      off += size;
    }
    buf = buf.subarray(off);
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
    return out;
  }

  /** Bytes of an unfinished box held back. */
  get buffered(): number {
    return this.pendingBytes;
  }
}

/** Child boxes of a container box's payload (`start` skips a full box's version/flags or an entry count). */
export function childBoxes(box: Buffer, start = 8): Mp4Box[] {
  const out: Mp4Box[] = [];
  let off = start;
  while (off + 8 <= box.length) {
    const size = box.readUInt32BE(off);
    if (size < 8 || off + size > box.length) break;
    out.push({ type: box.toString('latin1', off + 4, off + 8), data: box.subarray(off, off + size) });
    off += size;
  }
  return out;
}

const child = (box: Buffer | undefined, type: string, start = 8) =>
  box ? childBoxes(box, start).find((b) => b.type === type)?.data : undefined;

/** Sample flags (14496-12 8.8.3.1): a sync sample has `sample_is_non_sync_sample` clear. */
export const isSyncSampleFlags = (flags: number) => ((flags >>> 16) & 1) === 0 && ((flags >>> 24) & 3) !== 1;

/** What a `moof` says about its fragment: whether its first sample is a keyframe, and its decode time. */
export function describeMoof(moof: Buffer): { keyframe: boolean; decodeTime: number | undefined; samples: number } {
  const traf = child(moof, 'traf');
  const tfhd = child(traf, 'tfhd');
  const trun = child(traf, 'trun');
  const tfdt = child(traf, 'tfdt');
  let decodeTime: number | undefined;
  if (tfdt && tfdt.length >= 16) {
    decodeTime = tfdt[8] === 1 && tfdt.length >= 20 ? Number(tfdt.readBigUInt64BE(12)) : tfdt.readUInt32BE(12);
  }
  if (!tfhd || !trun || trun.length < 16) return { keyframe: false, decodeTime, samples: 0 };
  let defaultFlags: number | undefined;
  const hf = tfhd.readUInt32BE(8) & 0xffffff;
  let p = 16; // header, version/flags, track_ID
  if (hf & 0x1) p += 8;
  if (hf & 0x2) p += 4;
  if (hf & 0x8) p += 4;
  if (hf & 0x10) p += 4;
  if (hf & 0x20 && p + 4 <= tfhd.length) defaultFlags = tfhd.readUInt32BE(p);
  const rf = trun.readUInt32BE(8) & 0xffffff;
  const samples = trun.readUInt32BE(12);
  let q = 16;
  if (rf & 0x1) q += 4;
  let first: number | undefined;
  if (rf & 0x4) {
    first = trun.readUInt32BE(q);
    q += 4;
  } else if (rf & 0x400 && samples > 0) {
    // Per-sample flags: the first sample's come after its duration and size, when those are present.
    const at = q + (rf & 0x100 ? 4 : 0) + (rf & 0x200 ? 4 : 0);
    if (at + 4 <= trun.length) first = trun.readUInt32BE(at);
  }
  const flags = first ?? defaultFlags;
  // No flags anywhere: every sample is a sync sample (14496-12: the default when nothing says otherwise).
  return { keyframe: flags === undefined ? true : isSyncSampleFlags(flags), decodeTime, samples };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * The RFC 6381 codec string of the first video track of an init segment (`ftyp`+`moov`, or the `moov` alone):
 * `avc1.PPCCLL` from avcC, `hvc1.…`/`hev1.…` from hvcC (ISO/IEC 14496-15 Annex E). Undefined when there is none.
 */
export function codecOfInit(init: Buffer): string | undefined {
  const boxes = childBoxes(init, 0);
  const moov = boxes.find((b) => b.type === 'moov')?.data ?? (init.toString('latin1', 4, 8) === 'moov' ? init : null);
  if (!moov) return undefined;
  for (const trak of childBoxes(moov).filter((b) => b.type === 'trak')) {
    const stsd = child(child(child(child(trak.data, 'mdia'), 'minf'), 'stbl'), 'stsd');
    if (!stsd) continue;
    // stsd: full box (4) + entry_count (4); a visual sample entry's children start 78 bytes into its payload.
    for (const entry of childBoxes(stsd, 16)) {
      const fourcc = entry.type;
      if (fourcc === 'avc1' || fourcc === 'avc3') {
        const avcC = child(entry.data, 'avcC', 86);
        if (!avcC || avcC.length < 12) return fourcc;
        return `${fourcc}.${hex2(avcC[9]!)}${hex2(avcC[10]!)}${hex2(avcC[11]!)}`;
      }
      if (fourcc === 'hvc1' || fourcc === 'hev1') {
        const c = child(entry.data, 'hvcC', 86);
        if (!c || c.length < 8 + 13) return fourcc;
        const b = c.subarray(8);
        const space = ['', 'A', 'B', 'C'][b[1]! >> 6]!;
        const tier = b[1]! & 0x20 ? 'H' : 'L';
        const profile = b[1]! & 0x1f;
        // The 32 compatibility flags, bit-reversed, in hex without leading zeros.
        let compat = b.readUInt32BE(2);
        let rev = 0;
        for (let i = 0; i < 32; i++) {
          rev = (rev << 1) | (compat & 1);
          compat >>>= 1;
        }
        const constraints = [...b.subarray(6, 12)];
        while (constraints.length && constraints.at(-1) === 0) constraints.pop();
        const tail = constraints.map((x) => `.${x.toString(16).toUpperCase()}`).join('');
        return `${fourcc}.${space}${profile}.${(rev >>> 0).toString(16).toUpperCase()}.${tier}${b[12]}${tail}`;
      }
    }
  }
  return undefined;
}

/** What the assembler makes of the box stream. */
export type Fmp4Event =
  | { kind: 'init'; data: Buffer; codec: string | undefined }
  | { kind: 'fragment'; data: Buffer; keyframe: boolean; decodeTime: number | undefined };

/**
 * Turns the box stream into init segments and fragments: `ftyp`+`moov` make an init segment; each `moof` with
 * the `mdat` after it make a fragment. Anything else at the top level (`styp`, `sidx`, `free`, `mfra`) is
 * dropped: MediaSource does not need it.
 */
export class Fmp4Assembler {
  private splitter = new BoxSplitter();
  private ftyp: Buffer | undefined;
  private moof: Buffer | undefined;

  push(chunk: Buffer): Fmp4Event[] {
    const out: Fmp4Event[] = [];
    for (const box of this.splitter.push(chunk)) {
      if (box.type === 'ftyp') this.ftyp = Buffer.from(box.data);
      else if (box.type === 'moov') {
        const data = this.ftyp ? Buffer.concat([this.ftyp, box.data]) : Buffer.from(box.data);
        out.push({ kind: 'init', data, codec: codecOfInit(data) });
        this.moof = undefined;
      } else if (box.type === 'moof') this.moof = Buffer.from(box.data);
      else if (box.type === 'mdat' && this.moof) {
        const info = describeMoof(this.moof);
        out.push({
          kind: 'fragment',
          data: Buffer.concat([this.moof, box.data]),
          keyframe: info.keyframe,
          decodeTime: info.decodeTime,
        });
        this.moof = undefined;
      }
    }
    return out;
  }
}
