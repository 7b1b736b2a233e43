/**
 * From measures to faults: thresholds (per camera network, from the server's config) and the rules for which
 * fault hides which. Pure.
 */
import type { SampleMeasures } from './measures.ts';

/**
 * Fault kinds, in the order they are reported (the first is the point's main fault): no_signal (no picture at
 * all), black, overexposed, dark, frozen, occlusion (遮挡), scene_change (moved from its reference, 场景变化),
 * blur, noise, color_cast (偏色).
 */
export const PICTURE_FAULT_KINDS = [
  'no_signal',
  'black',
  'overexposed',
  'dark',
  'frozen',
  'occlusion',
  'scene_change',
  'blur',
  'noise',
  'color_cast',
] as const;
export type PictureFaultKind = (typeof PICTURE_FAULT_KINDS)[number];

export interface QualityThresholds {
  /** Black: 90 % of the picture at or below this luma (an OSD may stay lit). */
  blackP90: number;
  /** Too dark: median luma below this. */
  darkP50: number;
  /** Overexposed: median luma above this… */
  overexposedP50: number;
  /** …or this share of the picture clipped white. */
  overexposedShare: number;
  /** Frozen: less than this share of blocks changes across the sample. */
  frozenMotion: number;
  /** Blurred: blur index (0 sharp … 1) above this. */
  blur: number;
  /** Noisy: temporal noise (luma levels) above this. */
  noise: number;
  /** Colour cast: cast factor above this… */
  castFactor: number;
  /** …and the mean chroma this far from grey. */
  castDistance: number;
  /** Occluded: the largest flat region covers more than this share. */
  occlusion: number;
  /** Moved: more than this share of blocks differs from the reference. */
  sceneChange: number;
}

/** Calibrated against the simulator's fault set (scripts/sim/picture-faults.ts) after H.264 at sub-stream rates. */
export const DEFAULT_THRESHOLDS: QualityThresholds = {
  blackP90: 40,
  darkP50: 45,
  overexposedP50: 225,
  overexposedShare: 0.45,
  frozenMotion: 0.03,
  blur: 0.55,
  noise: 0.08,
  castFactor: 0.4,
  castDistance: 15,
  occlusion: 0.3,
  sceneChange: 0.3,
};

/**
 * The faults a sample shows, main fault first. What hides what: a black picture is only black (it is also
 * flat, unchanging and unlike its reference, which says nothing more); a dark or washed-out picture cannot be
 * judged for occlusion, scene or colour (its flat areas and shifted colours come from the exposure); an
 * occluded one not for scene or colour (the cover is what differs, and its colour is the cover's).
 */
export function judgePicture(m: SampleMeasures, t: QualityThresholds): PictureFaultKind[] {
  if (m.lumaP90 <= t.blackP90) return ['black'];
  const found = new Set<PictureFaultKind>();
  const over = m.lumaP50 > t.overexposedP50 || m.brightShare > t.overexposedShare;
  const dark = !over && m.lumaP50 < t.darkP50;
  if (over) found.add('overexposed');
  if (dark) found.add('dark');
  if (!Number.isNaN(m.motion) && m.motion < t.frozenMotion) found.add('frozen');
  const exposed = !over && !dark;
  const occluded = exposed && m.uniformShare > t.occlusion;
  if (occluded) found.add('occlusion');
  if (exposed && !occluded && m.sceneDifference !== null && m.sceneDifference > t.sceneChange)
    found.add('scene_change');
  if (m.blur !== null && m.blur > t.blur) found.add('blur');
  if (!Number.isNaN(m.noise) && m.noise > t.noise) found.add('noise');
  if (exposed && !occluded && m.castFactor > t.castFactor && m.castDistance > t.castDistance) found.add('color_cast');
  return PICTURE_FAULT_KINDS.filter((k) => found.has(k));
}
