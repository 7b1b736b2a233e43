/**
 * 视频质量诊断 — the platform's own picture measures: pure functions over decoded frames (planar YUV 4:4:4,
 * 8 bit, scaled by ffmpeg to one analysis size so that thresholds do not depend on the camera's resolution).
 * Nothing here spawns, reads the clock or touches the disk.
 *
 * Measures are chosen to survive what every camera picture carries: an OSD (a clock, a name) drawn sharp on
 * top of whatever the lens sees, and big flat areas (walls, sky, road). So most of them are taken per block
 * and summarised by a median or a percentile, which a few OSD blocks cannot move.
 */

/** Size every picture is scaled to before it is measured (16:9; other shapes are stretched, which is harmless). */
export const ANALYSIS_WIDTH = 320;
export const ANALYSIS_HEIGHT = 180;
/** Block edge in pixels: 32 × 18 blocks at the analysis size. */
export const BLOCK = 10;

/** One decoded picture, planar 4:4:4 (`-pix_fmt yuv444p`), limited-range BT.601 as cameras send it. */
export interface YuvFrame {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

/** Splits one raw yuv444p picture (as ffmpeg writes it) into planes; the planes share the buffer. */
export function splitYuv444(buf: Uint8Array, width: number, height: number): YuvFrame {
  const n = width * height;
  if (buf.length !== n * 3)
    throw new Error(`a ${width}x${height} yuv444p picture is ${n * 3} bytes, got ${buf.length}`);
  return {
    width,
    height,
    y: buf.subarray(0, n),
    u: buf.subarray(n, 2 * n),
    v: buf.subarray(2 * n, 3 * n),
  };
}

/** Per-block means and spreads of one picture. */
export interface BlockGrid {
  cols: number;
  rows: number;
  meanY: Float32Array;
  meanU: Float32Array;
  meanV: Float32Array;
  /** Standard deviation of luma inside the block. */
  stdY: Float32Array;
  /** Larger of the two chroma standard deviations inside the block. */
  stdC: Float32Array;
}

export function blockGrid(f: YuvFrame, block = BLOCK): BlockGrid {
  const cols = Math.floor(f.width / block);
  const rows = Math.floor(f.height / block);
  const n = cols * rows;
  const g: BlockGrid = {
    cols,
    rows,
    meanY: new Float32Array(n),
    meanU: new Float32Array(n),
    meanV: new Float32Array(n),
    stdY: new Float32Array(n),
    stdC: new Float32Array(n),
  };
  const area = block * block;
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < cols; bx++) {
      let sy = 0;
      let sy2 = 0;
      let su = 0;
      let su2 = 0;
      let sv = 0;
      let sv2 = 0;
      for (let y = by * block; y < (by + 1) * block; y++) {
        let i = y * f.width + bx * block;
        for (let x = 0; x < block; x++, i++) {
          const a = f.y[i]!;
          const b = f.u[i]!;
          const c = f.v[i]!;
          sy += a;
          sy2 += a * a;
          su += b;
          su2 += b * b;
          sv += c;
          sv2 += c * c;
        }
      }
      const k = by * cols + bx;
      const my = sy / area;
      const mu = su / area;
      const mv = sv / area;
      g.meanY[k] = my;
      g.meanU[k] = mu;
      g.meanV[k] = mv;
      g.stdY[k] = Math.sqrt(Math.max(0, sy2 / area - my * my));
      g.stdC[k] = Math.sqrt(Math.max(0, Math.max(su2 / area - mu * mu, sv2 / area - mv * mv)));
    }
  }
  return g;
}

/** Value at quantile q (0–1) of a list (nearest rank); NaN for an empty list. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LumaStats {
  mean: number;
  p50: number;
  p90: number;
  /** Share of pixels at or below 35: what a black or unlit picture is made of. */
  darkShare: number;
  /** Share of pixels at or above 235: clipped white. */
  brightShare: number;
}

export function lumaStats(f: YuvFrame): LumaStats {
  const hist = new Uint32Array(256);
  let sum = 0;
  for (const v of f.y) {
    hist[v]!++;
    sum += v;
  }
  const n = f.y.length;
  const at = (q: number) => {
    const want = Math.ceil(q * n);
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += hist[v]!;
      if (acc >= want) return v;
    }
    return 255;
  };
  let dark = 0;
  for (let v = 0; v <= 35; v++) dark += hist[v]!;
  let bright = 0;
  for (let v = 235; v < 256; v++) bright += hist[v]!;
  return { mean: sum / n, p50: at(0.5), p90: at(0.9), darkShare: dark / n, brightShare: bright / n };
}

/**
 * Blur, 0 (sharp) … 1 (no detail left): the no-reference measure of Crété-Roffet et al., "The Blur Effect"
 * (SPIE 2007). A picture is blurred again with a 9-tap box; neighbour differences a sharp picture loses to
 * that blur are its detail, and a blurred picture has little left to lose. Taken per block over the blocks that
 * have any detail at all, then the 70th percentile: a camera's OSD (its name and clock, drawn sharp over
 * whatever the lens sees) can make up more than half the detailed blocks of a defocused picture, and must not
 * make it read as sharp.
 * Null when fewer than 5 % of the blocks have detail (a flat picture: black, covered or overexposed).
 */
export function blurIndex(f: YuvFrame, block = BLOCK, q = 0.7): number | null {
  const { width: w, height: h, y: img } = f;
  const cols = Math.floor(w / block);
  const rows = Math.floor(h / block);
  const sF = new Float64Array(cols * rows * 2);
  const sV = new Float64Array(cols * rows * 2);
  const R = 4;
  // Block of each column and row (-1 past the last whole block): looked up, not divided, per pixel.
  const colBlock = blockIndex(w, block, cols);
  const rowBlock = blockIndex(h, block, rows);
  // Horizontal: box-blur each row with a running sum.
  const blurred = new Float32Array(w);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let acc = 0;
    for (let x = -R; x <= R; x++) acc += img[row + Math.min(w - 1, Math.max(0, x))]!;
    for (let x = 0; x < w; x++) {
      blurred[x] = acc / (2 * R + 1);
      acc += img[row + Math.min(w - 1, x + R + 1)]! - img[row + Math.max(0, x - R)]!;
    }
    const by = rowBlock[y]!;
    if (by < 0) continue;
    for (let x = 1; x < w; x++) {
      const bx = colBlock[x]!;
      if (bx < 0) continue;
      const dF = Math.abs(img[row + x]! - img[row + x - 1]!);
      const dB = Math.abs(blurred[x]! - blurred[x - 1]!);
      const k = (by * cols + bx) * 2;
      sF[k]! += dF;
      sV[k]! += Math.max(0, dF - dB);
    }
  }
  // Vertical: the same down each column.
  const col = new Float32Array(h);
  for (let x = 0; x < w; x++) {
    const bx = colBlock[x]!;
    if (bx < 0) continue;
    let acc = 0;
    for (let y = -R; y <= R; y++) acc += img[Math.min(h - 1, Math.max(0, y)) * w + x]!;
    for (let y = 0; y < h; y++) {
      col[y] = acc / (2 * R + 1);
      acc += img[Math.min(h - 1, y + R + 1) * w + x]! - img[Math.max(0, y - R) * w + x]!;
    }
    for (let y = 1; y < h; y++) {
      const by = rowBlock[y]!;
      if (by < 0) continue;
      const dF = Math.abs(img[y * w + x]! - img[(y - 1) * w + x]!);
      const dB = Math.abs(col[y]! - col[y - 1]!);
      const k = (by * cols + bx) * 2 + 1;
      sF[k]! += dF;
      sV[k]! += Math.max(0, dF - dB);
    }
  }
  const values: number[] = [];
  // A block "has detail" when its neighbour differences add up to more than ~1.5 levels per pixel.
  const minDetail = 1.5 * block * block;
  for (let k = 0; k < cols * rows; k++) {
    const fh = sF[k * 2]!;
    const fv = sF[k * 2 + 1]!;
    if (fh + fv < minDetail) continue;
    // A direction without detail of its own (a block of vertical edges only) says nothing about blur.
    const bh = fh >= minDetail / 4 ? (fh - sV[k * 2]!) / fh : 0;
    const bv = fv >= minDetail / 4 ? (fv - sV[k * 2 + 1]!) / fv : 0;
    values.push(Math.max(bh, bv));
  }
  if (values.length < 0.05 * cols * rows) return null;
  return quantile(values, q);
}

function blockIndex(length: number, block: number, blocks: number): Int16Array {
  const idx = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    const b = Math.floor(i / block);
    idx[i] = b < blocks ? b : -1;
  }
  return idx;
}

/**
 * Noise, in luma levels: per block, the median over the sample of the mean absolute difference between
 * consecutive pictures; then the 30th percentile over blocks. A still scene keeps most blocks at 0 (the
 * encoder sends them as skips); sensor noise makes every block flicker. Moving things (a few blocks) and the
 * OSD clock do not reach the 30th percentile. Spatial estimates (Immerkær's) were tried first: after H.264 at
 * a sub stream's bitrate the encoder has smoothed the noise out of each picture, but not out of time.
 * NaN with a single picture.
 */
export function temporalNoise(frames: readonly YuvFrame[], block = BLOCK): number {
  const first = frames[0];
  if (!first || frames.length < 2) return Number.NaN;
  const { width: w } = first;
  const cols = Math.floor(first.width / block);
  const rows = Math.floor(first.height / block);
  const perBlock = new Float64Array(cols * rows);
  const diffs = new Float64Array(frames.length - 1);
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < cols; bx++) {
      for (let f = 1; f < frames.length; f++) {
        const a = frames[f - 1]!.y;
        const b = frames[f]!.y;
        let d = 0;
        for (let y = by * block; y < (by + 1) * block; y++) {
          let i = y * w + bx * block;
          for (let x = 0; x < block; x++, i++) d += Math.abs(b[i]! - a[i]!);
        }
        diffs[f - 1] = d / (block * block);
      }
      perBlock[by * cols + bx] = quantile(diffs, 0.5);
    }
  }
  return quantile(perBlock, 0.3);
}

export interface ColourCast {
  /** Distance of the mean chroma from neutral grey (chroma levels). */
  distance: number;
  /** That distance over the spread of chroma around its mean: > 1 means the whole picture leans one way. */
  factor: number;
  /** Direction of the lean in degrees (0 = towards +Cb/blue, 90 = towards +Cr/red), for the reason text. */
  hue: number;
}

/**
 * Colour cast by the "equivalent circle" of chroma (Xu et al.): a normal picture's colours spread around grey;
 * a cast moves the whole cloud off grey and shrinks it. Pixels too dark or too bright carry no reliable
 * chroma and are left out.
 */
export function colourCast(f: YuvFrame): ColourCast {
  let n = 0;
  let su = 0;
  let sv = 0;
  for (let i = 0; i < f.y.length; i++) {
    const l = f.y[i]!;
    if (l < 40 || l > 220) continue;
    su += f.u[i]! - 128;
    sv += f.v[i]! - 128;
    n++;
  }
  if (n < f.y.length * 0.1) return { distance: 0, factor: 0, hue: 0 };
  const du = su / n;
  const dv = sv / n;
  let spread = 0;
  for (let i = 0; i < f.y.length; i++) {
    const l = f.y[i]!;
    if (l < 40 || l > 220) continue;
    const a = f.u[i]! - 128 - du;
    const b = f.v[i]! - 128 - dv;
    // sqrt, not Math.hypot: hypot guards against overflow that 8-bit chroma cannot reach, at several times the cost.
    spread += Math.sqrt(a * a + b * b);
  }
  spread /= n;
  const distance = Math.hypot(du, dv);
  return { distance, factor: distance / Math.max(spread, 2), hue: (Math.atan2(dv, du) * 180) / Math.PI };
}

/**
 * Share of the picture taken by its largest connected region of flat blocks of one colour: what a bag, a
 * leaf, a cloth or a hand over the lens makes. Blocks join when they are flat (little luma and chroma spread)
 * and their neighbour's mean colour is close, so a smooth gradient (sky) is one region and two flat surfaces
 * of different colour are two.
 */
export function largestUniformShare(g: BlockGrid): number {
  const n = g.cols * g.rows;
  const flat = new Uint8Array(n);
  for (let k = 0; k < n; k++) flat[k] = g.stdY[k]! < 4 && g.stdC[k]! < 3.5 ? 1 : 0;
  const seen = new Uint8Array(n);
  const stack: number[] = [];
  let best = 0;
  const close = (a: number, b: number) =>
    Math.abs(g.meanY[a]! - g.meanY[b]!) < 6 &&
    Math.abs(g.meanU[a]! - g.meanU[b]!) < 4 &&
    Math.abs(g.meanV[a]! - g.meanV[b]!) < 4;
  for (let s = 0; s < n; s++) {
    if (!flat[s] || seen[s]) continue;
    let size = 0;
    seen[s] = 1;
    stack.push(s);
    while (stack.length) {
      const k = stack.pop()!;
      size++;
      const x = k % g.cols;
      const y = (k - x) / g.cols;
      const next = [
        x > 0 ? k - 1 : -1,
        x < g.cols - 1 ? k + 1 : -1,
        y > 0 ? k - g.cols : -1,
        y < g.rows - 1 ? k + g.cols : -1,
      ];
      for (const m of next) {
        if (m < 0 || seen[m] || !flat[m] || !close(k, m)) continue;
        seen[m] = 1;
        stack.push(m);
      }
    }
    best = Math.max(best, size);
  }
  return best / n;
}

/**
 * Motion: the largest share of blocks whose luma changed (mean absolute difference above 3 levels) between the
 * first picture of the sample and any later one. A frozen source — the encoder resending one picture — stays
 * near 0 whatever the OSD clock does (its digits are a few blocks).
 */
export function motionShare(frames: readonly YuvFrame[], block = BLOCK): number {
  const first = frames[0];
  if (!first || frames.length < 2) return Number.NaN;
  const cols = Math.floor(first.width / block);
  const rows = Math.floor(first.height / block);
  let best = 0;
  for (const f of frames.slice(1)) {
    let changed = 0;
    for (let by = 0; by < rows; by++) {
      for (let bx = 0; bx < cols; bx++) {
        let d = 0;
        for (let y = by * block; y < (by + 1) * block; y++) {
          let i = y * first.width + bx * block;
          for (let x = 0; x < block; x++, i++) d += Math.abs(f.y[i]! - first.y[i]!);
        }
        if (d / (block * block) > 3) changed++;
      }
    }
    best = Math.max(best, changed / (cols * rows));
  }
  return best;
}

/**
 * What a scene looks like, compactly: per block the temporal median over the sample of mean luma (so passing
 * cars and people drop out), normalised to zero mean and unit spread over the picture (so day and dusk, or a
 * changed exposure, compare alike). 32 × 18 numbers; stored as the point's reference (参考图).
 */
export interface SceneSignature {
  cols: number;
  rows: number;
  /** Normalised block luma, row by row. */
  values: number[];
}

export function sceneSignature(frames: readonly YuvFrame[], block = BLOCK): SceneSignature {
  return signatureOfGrids(frames.map((f) => blockGrid(f, block)));
}

function signatureOfGrids(grids: readonly BlockGrid[]): SceneSignature {
  const g0 = grids[0];
  if (!g0) throw new Error('a scene signature needs at least one picture');
  const n = g0.cols * g0.rows;
  const med = new Float64Array(n);
  for (let k = 0; k < n; k++)
    med[k] = quantile(
      grids.map((g) => g.meanY[k]!),
      0.5,
    );
  let mean = 0;
  for (const v of med) mean += v;
  mean /= n;
  let sd = 0;
  for (const v of med) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / n);
  const scale = Math.max(sd, 4);
  return {
    cols: g0.cols,
    rows: g0.rows,
    values: Array.from(med, (v) => Math.round(((v - mean) / scale) * 1000) / 1000),
  };
}

/**
 * Share of blocks whose normalised luma differs from the reference by more than 0.75 (three quarters of the
 * picture's own spread): a camera turned away, or knocked, changes most of them; moving people, traffic and
 * a changed exposure change few. NaN when the signatures are of different grids.
 */
export function sceneDifference(now: SceneSignature, ref: SceneSignature): number {
  if (now.cols !== ref.cols || now.rows !== ref.rows || now.values.length !== ref.values.length) return Number.NaN;
  let differ = 0;
  for (let k = 0; k < now.values.length; k++) if (Math.abs(now.values[k]! - ref.values[k]!) > 0.75) differ++;
  return differ / now.values.length;
}

/** Every measure of one picture. */
export interface FrameMeasures {
  luma: LumaStats;
  blur: number | null;
  cast: ColourCast;
  uniformShare: number;
}

export function measureFrame(f: YuvFrame, grid: BlockGrid = blockGrid(f)): FrameMeasures {
  return {
    luma: lumaStats(f),
    blur: blurIndex(f),
    cast: colourCast(f),
    uniformShare: largestUniformShare(grid),
  };
}

/** The measures of a whole sample: per-picture measures by their median, motion and the scene across pictures. */
export interface SampleMeasures {
  frames: number;
  lumaMean: number;
  lumaP50: number;
  lumaP90: number;
  darkShare: number;
  brightShare: number;
  /** Null when the picture has too little detail to judge. */
  blur: number | null;
  /** Temporal noise (luma levels); NaN with a single picture. */
  noise: number;
  castFactor: number;
  castDistance: number;
  castHue: number;
  uniformShare: number;
  /** NaN with a single picture. */
  motion: number;
  /** Against the point's reference; null without one. */
  sceneDifference: number | null;
}

const median = (xs: number[]) => quantile(xs, 0.5);

export function measureSample(
  frames: readonly YuvFrame[],
  reference: SceneSignature | null,
): {
  measures: SampleMeasures;
  signature: SceneSignature;
} {
  if (!frames.length) throw new Error('no pictures to measure');
  // One block grid per picture serves both the flat-region measure and the scene signature.
  const grids = frames.map((f) => blockGrid(f));
  const per = frames.map((f, i) => measureFrame(f, grids[i]));
  const blurs = per.map((m) => m.blur).filter((b): b is number => b !== null);
  const signature = signatureOfGrids(grids);
  const diff = reference ? sceneDifference(signature, reference) : null;
  return {
    signature,
    measures: {
      frames: frames.length,
      lumaMean: median(per.map((m) => m.luma.mean)),
      lumaP50: median(per.map((m) => m.luma.p50)),
      lumaP90: median(per.map((m) => m.luma.p90)),
      darkShare: median(per.map((m) => m.luma.darkShare)),
      brightShare: median(per.map((m) => m.luma.brightShare)),
      blur: blurs.length * 2 > per.length ? median(blurs) : null,
      noise: temporalNoise(frames),
      castFactor: median(per.map((m) => m.cast.factor)),
      castDistance: median(per.map((m) => m.cast.distance)),
      castHue: median(per.map((m) => m.cast.hue)),
      uniformShare: median(per.map((m) => m.uniformShare)),
      motion: motionShare(frames),
      sceneDifference: diff !== null && Number.isNaN(diff) ? null : diff,
    },
  };
}
