/**
 * The wall-clock time stamped into every frame the simulator sends, so that glass-to-glass latency can be
 * measured from what a viewer decodes (issue 18):
 *
 * - **SEI** (ITU-T H.264 D.1.6, user data unregistered, payload type 5) in front of each picture's slices:
 *   the UUID below, then the frame's capture time in microseconds since the Unix epoch (u64, big endian)
 *   and the camera timeline's frame number (u32). Survives remuxing (RTSP → HLS/fMP4 with `-c copy`).
 * - **Burnt into the picture**: a black band at the bottom with the local time to the hundredth of a second
 *   (`YYYY-MM-DD HH:MM:SS.cc`, or `HH:MM:SS.cc` on narrow pictures) in a 5×7 pixel font. The clips are encoded once, so the band is
 *   not encoded by ffmpeg: the clip is encoded with its last macroblock row(s) as a slice of their own
 *   (x264 `slice-max-mbs`), and the simulator replaces that slice in every picture by one it writes itself —
 *   I_PCM macroblocks (raw samples, so the decoded band is bit-exact) where the text changed since the
 *   previous picture, P_Skip elsewhere; on keyframes the whole band (black as Intra 16×16 DC). That costs a
 *   few hundred bytes of copying per frame and camera, no encoder. The encoder saw a black band there, so
 *   its own pictures do not depend on the digits (motion vectors reaching into the band may smear a few
 *   pixels above it until the next keyframe).
 */
import { BitWriter, escapeRbsp, type SliceHeaderInfo } from './h264.ts';

/** UUID of the simulator's clock SEI (iso_iec_11578 field). */
export const CLOCK_SEI_UUID = Buffer.from('5a978d340da44ce9a0aa2a33feb5c73c', 'hex');

/** SEI NAL unit carrying one frame's capture time (µs since the epoch) and timeline frame number. */
export function clockSei(wallClockMs: number, frame: number): Buffer {
  const payload = Buffer.alloc(28);
  CLOCK_SEI_UUID.copy(payload, 0);
  payload.writeBigUInt64BE(BigInt(Math.round(wallClockMs * 1000)), 16);
  payload.writeUInt32BE(frame >>> 0, 24);
  const rbsp = Buffer.concat([Buffer.from([5, payload.length]), payload, Buffer.from([0x80])]);
  return Buffer.concat([Buffer.from([0x06]), escapeRbsp(rbsp)]);
}

/** The capture time (ms since the epoch, µs precision) and frame number of a clock SEI, else undefined. */
export function readClockSei(nal: Buffer): { wallClockMs: number; frame: number } | undefined {
  if ((nal[0]! & 0x1f) !== 6) return undefined;
  // Unescape (0x000003 → 0x0000) before reading.
  const b: number[] = [];
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const x = nal[i]!;
    if (zeros >= 2 && x === 3) {
      zeros = 0;
      continue;
    }
    b.push(x);
    zeros = x === 0 ? zeros + 1 : 0;
  }
  let i = 0;
  while (i < b.length && b[i] !== 0x80) {
    let type = 0;
    while (b[i] === 0xff) type += b[i++]!;
    type += b[i++]!;
    let size = 0;
    while (b[i] === 0xff) size += b[i++]!;
    size += b[i++]!;
    const body = Buffer.from(b.slice(i, i + size));
    i += size;
    if (type === 5 && size >= 28 && body.subarray(0, 16).equals(CLOCK_SEI_UUID)) {
      return { wallClockMs: Number(body.readBigUInt64BE(16)) / 1000, frame: body.readUInt32BE(24) };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- the burnt-in band

const FONT: Record<string, readonly string[]> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  ':': ['.....', '..#..', '..#..', '.....', '..#..', '..#..', '.....'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};
const GLYPH_W = 5;
const GLYPH_H = 7;
/** Glyph plus one column of spacing. */
const CELL_W = GLYPH_W + 1;
const BLACK = 16;
const WHITE = 235;
const NEUTRAL = 128;
const MARGIN_X = 4;

/** Where the clock band and its text lie in a picture of this size. */
export interface ClockBandLayout {
  widthMbs: number;
  heightMbs: number;
  /** First macroblock row of the band: the encoder's slices end where it starts. */
  firstRow: number;
  rows: number;
  /** The band's first macroblock (first_mb_in_slice of the band's slice). */
  firstMb: number;
  /** Text: top-left corner in picture pixels, pixel size of a font dot, and format. */
  textX: number;
  textY: number;
  scale: number;
  withDate: boolean;
}

const FULL_LEN = 22; // YYYY-MM-DD HH:MM:SS.cc
const TIME_LEN = 11; // HH:MM:SS.cc

/**
 * The band: the last macroblock row when it is shown whole, else the last two (pictures like 480×270 are
 * coded 16 rows taller and cropped), the text in the band's first whole row. Undefined for pictures too
 * small to hold it (under 3 macroblock rows or 80 pixels wide).
 */
export function clockBandLayout(width: number, height: number): ClockBandLayout | undefined {
  const widthMbs = Math.ceil(width / 16);
  const heightMbs = Math.ceil(height / 16);
  const lastShown = height - 16 * (heightMbs - 1);
  const rows = lastShown >= 16 ? 1 : 2;
  const firstRow = heightMbs - rows;
  if (firstRow < 1 || width < 80) return undefined;
  for (const scale of [2, 1]) {
    for (const withDate of [true, false]) {
      const len = withDate ? FULL_LEN : TIME_LEN;
      // The hundredths, which change every frame, start on a macroblock edge: two macroblocks a frame.
      const before = (len - 2) * CELL_W * scale;
      const textX = Math.ceil((before + MARGIN_X) / 16) * 16 - before;
      if (textX + len * CELL_W * scale + MARGIN_X > width) continue;
      const textY = firstRow * 16 + Math.floor((16 - GLYPH_H * scale) / 2);
      return {
        widthMbs,
        heightMbs,
        firstRow,
        rows,
        firstMb: firstRow * widthMbs,
        textX,
        textY,
        scale,
        withDate,
      };
    }
  }
  return undefined;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * The text burnt in for a capture time: the machine's local time, truncated to hundredths of a second
 * (finer than any frame interval; a third digit would cost a macroblock of raw samples more per frame).
 */
export function clockText(wallClockMs: number, withDate: boolean): string {
  const d = new Date(Math.floor(wallClockMs));
  const cs = Math.floor(d.getMilliseconds() / 10);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(cs)}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}` : time;
}

/**
 * Reads the burnt-in clock back from a decoded picture's luma plane (8 bits, `stride` bytes a row) of the
 * simulator's geometry: the text, and the time it names (ms since the epoch, to 10 ms; for a picture without the
 * date, the moment of that time of day nearest to `nearMs`). Undefined when the band is not there.
 */
export function readClockBand(
  luma: Uint8Array,
  width: number,
  height: number,
  stride = width,
  nearMs = Date.now(),
): { text: string; wallClockMs: number } | undefined {
  const l = clockBandLayout(width, height);
  if (!l) return undefined;
  const len = l.withDate ? FULL_LEN : TIME_LEN;
  let text = '';
  for (let c = 0; c < len; c++) {
    let best = '';
    let bestDist = Infinity;
    const bits: number[] = [];
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        const x = l.textX + (c * CELL_W + gx) * l.scale + (l.scale >> 1);
        const y = l.textY + gy * l.scale + (l.scale >> 1);
        bits.push(luma[y * stride + x]! > 128 ? 1 : 0);
      }
    }
    for (const [ch, rows] of Object.entries(FONT)) {
      let dist = 0;
      for (let i = 0; i < bits.length; i++)
        if ((rows[Math.floor(i / GLYPH_W)]![i % GLYPH_W] === '#' ? 1 : 0) !== bits[i]) dist++;
      if (dist < bestDist) [best, bestDist] = [ch, dist];
    }
    if (bestDist > 2) return undefined;
    text += best;
  }
  const m = /^(?:(\d{4})-(\d\d)-(\d\d) )?(\d\d):(\d\d):(\d\d)\.(\d\d)$/.exec(text);
  if (!m) return undefined;
  const [h, min, s, cs] = [m[4], m[5], m[6], m[7]].map(Number) as [number, number, number, number];
  const ms = cs * 10;
  if (m[1]) {
    return { text, wallClockMs: new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), h, min, s, ms).getTime() };
  }
  const near = new Date(nearMs);
  const candidates = [-1, 0, 1].map((day) =>
    new Date(near.getFullYear(), near.getMonth(), near.getDate() + day, h, min, s, ms).getTime(),
  );
  candidates.sort((a, b) => Math.abs(a - nearMs) - Math.abs(b - nearMs));
  return { text, wallClockMs: candidates[0]! };
}

/**
 * Writes the band's slice for each picture of one camera profile. `render` is called once per frame in
 * timeline order; `slice` then builds the band for any picture of that frame (pictures of different clips
 * or clip positions differ in their slice headers, so the slice is per picture).
 */
export class ClockBand {
  readonly layout: ClockBandLayout;
  /** Band luma, (widthMbs·16) × (rows·16): black, the text drawn into it. */
  readonly #band: Uint8Array;
  readonly #stride: number;
  #frame = -2;
  #text = '';
  /** Macroblocks (band order) whose picture differs from the previous frame's. */
  readonly #changed: Uint8Array;
  /** Macroblocks the text can reach; the others stay black. */
  readonly #inked: Uint8Array;
  /** Room for a whole band of I_PCM macroblocks; reused for every slice. */
  readonly #writer: BitWriter;
  /** Each character drawn once at the band's scale: (CELL_W·scale) × (GLYPH_H·scale) luma. */
  readonly #glyphs = new Map<string, Uint8Array>();

  constructor(layout: ClockBandLayout) {
    this.layout = layout;
    this.#stride = layout.widthMbs * 16;
    this.#band = new Uint8Array(this.#stride * layout.rows * 16).fill(BLACK);
    this.#changed = new Uint8Array(layout.widthMbs * layout.rows);
    this.#inked = new Uint8Array(this.#changed.length);
    this.#writer = new BitWriter(64 + this.#changed.length * 400);
    const len = layout.withDate ? FULL_LEN : TIME_LEN;
    this.#mark(this.#inked, layout.textX, len * CELL_W * layout.scale);
  }

  /** Marks the macroblocks under columns [x, x + w) of the text's rows. */
  #mark(mbs: Uint8Array, x: number, w: number): void {
    const l = this.layout;
    const top = l.textY - l.firstRow * 16;
    const bottom = top + GLYPH_H * l.scale - 1;
    for (let row = top >> 4; row <= bottom >> 4; row++) {
      for (let col = x >> 4; col <= (x + w - 1) >> 4; col++) mbs[row * l.widthMbs + col] = 1;
    }
  }

  #glyph(ch: string): Uint8Array {
    let g = this.#glyphs.get(ch);
    if (g) return g;
    const k = this.layout.scale;
    const w = CELL_W * k;
    g = new Uint8Array(w * GLYPH_H * k).fill(BLACK);
    const rows = FONT[ch] ?? FONT[' ']!;
    for (let y = 0; y < GLYPH_H * k; y++) {
      for (let x = 0; x < GLYPH_W * k; x++)
        if (rows[Math.floor(y / k)]![Math.floor(x / k)] === '#') g[y * w + x] = WHITE;
    }
    this.#glyphs.set(ch, g);
    return g;
  }

  /**
   * Draws frame `frame`'s time, redrawing only the characters that changed, and marks the macroblocks
   * that differ from frame `frame - 1` (all of them after a gap: a session only ever gets a P picture
   * right after the picture before it).
   */
  render(frame: number, wallClockMs: number): void {
    const l = this.layout;
    const text = clockText(wallClockMs, l.withDate);
    this.#changed.fill(frame === this.#frame + 1 ? 0 : 1);
    this.#frame = frame;
    const old = this.#text;
    if (text === old) return;
    this.#text = text;
    const w = CELL_W * l.scale;
    const top = l.textY - l.firstRow * 16;
    for (let c = 0; c < text.length; c++) {
      if (old[c] === text[c]) continue;
      const g = this.#glyph(text[c]!);
      const x0 = l.textX + c * w;
      for (let y = 0; y < GLYPH_H * l.scale; y++)
        this.#band.set(g.subarray(y * w, (y + 1) * w), (top + y) * this.#stride + x0);
      this.#mark(this.#changed, x0, w);
    }
  }

  #mbOrigin(mb: number): number {
    const w = this.layout.widthMbs;
    return Math.floor(mb / w) * 16 * this.#stride + (mb % w) * 16;
  }

  #uniform(mb: number, v: number): boolean {
    if (!this.#inked[mb]) return v === BLACK;
    const o = this.#mbOrigin(mb);
    for (let y = 0; y < 16; y++) {
      const r = o + y * this.#stride;
      for (let x = 0; x < 16; x++) if (this.#band[r + x] !== v) return false;
    }
    return true;
  }

  #pcm(w: BitWriter, mb: number): void {
    w.align();
    const o = this.#mbOrigin(mb);
    for (let y = 0; y < 16; y++) w.bytes(this.#band, o + y * this.#stride, 16);
    w.bytes(CHROMA_NEUTRAL);
  }

  /**
   * The band slice for a picture whose first slice is `head` (its NAL header byte `nalHeader`): on an
   * I picture every band macroblock is coded, on a P picture only those that changed.
   */
  slice(head: SliceHeaderInfo, nalHeader: number, deblockingControl: boolean): Buffer {
    const l = this.layout;
    const n = this.#changed.length;
    const w = this.#writer.reset();
    w.ue(l.firstMb).copyBits(head.rbsp, head.from, head.to);
    w.se(0); // slice_qp_delta
    // disable_deblocking_filter_idc 1: the band's edges stay unfiltered, the encoder's pictures unchanged.
    if (deblockingControl) w.ue(1);
    if (head.sliceType === 2) {
      // I slice. Total coefficients per macroblock, for CAVLC's nC of the next ones (I_PCM counts 16).
      const coeffs = new Uint8Array(n);
      for (let mb = 0; mb < n; mb++) {
        const x = mb % l.widthMbs;
        const hasLeft = x > 0;
        const hasTop = mb >= l.widthMbs;
        // Intra 16×16 DC prediction from the reconstructed neighbours inside this slice (8.3.3).
        let pred = NEUTRAL;
        if (hasLeft || hasTop) {
          let sum = 0;
          let count = 0;
          const o = this.#mbOrigin(mb);
          if (hasLeft) for (let y = 0; y < 16; y++, count++) sum += this.#band[o + y * this.#stride - 1]!;
          if (hasTop) for (let x2 = 0; x2 < 16; x2++, count++) sum += this.#band[o - this.#stride + x2]!;
          pred = (sum + count / 2) >> Math.log2(count);
        }
        if (pred === BLACK && this.#uniform(mb, BLACK)) {
          w.ue(3); // I_16x16_2_0_0: DC prediction, no coded luma or chroma blocks
          w.ue(0); // intra_chroma_pred_mode: DC (every chroma sample is neutral)
          w.se(0); // mb_qp_delta
          const nA = hasLeft ? coeffs[mb - 1]! : -1;
          const nB = hasTop ? coeffs[mb - l.widthMbs]! : -1;
          const nC = nA >= 0 && nB >= 0 ? (nA + nB + 1) >> 1 : nA >= 0 ? nA : nB >= 0 ? nB : 0;
          // coeff_token of the Intra16x16DCLevel block, TotalCoeff 0 (Table 9-5).
          if (nC < 2) w.u(1, 1);
          else if (nC < 4) w.u(2, 3);
          else if (nC < 8) w.u(4, 15);
          else w.u(6, 3);
          coeffs[mb] = 0;
        } else {
          w.ue(25); // I_PCM
          this.#pcm(w, mb);
          coeffs[mb] = 16;
        }
      }
    } else {
      let skip = 0;
      for (let mb = 0; mb < n; mb++) {
        if (!this.#changed[mb]) {
          skip++;
          continue;
        }
        w.ue(skip); // mb_skip_run: P_Skip with a zero motion vector (no neighbour above in this slice)
        skip = 0;
        w.ue(30); // I_PCM in a P slice (5 + 25)
        this.#pcm(w, mb);
      }
      if (skip) w.ue(skip);
    }
    return Buffer.concat([Buffer.from([nalHeader]), escapeRbsp(w.finish())]);
  }
}

const CHROMA_NEUTRAL = new Uint8Array(128).fill(NEUTRAL);
