/**
 * Which media profiles are a point's main and sub streams: among the video profiles (H.264/H.265, or of an
 * unsaid encoding), the most pixels is main, the fewest sub. Discovery registers their stream URIs by it; the
 * relay asks the same profile for a keyframe.
 */
import type { MediaProfile } from './client.ts';

const pixels = (p: MediaProfile) => (p.width ?? 0) * (p.height ?? 0);

/** Main stream: the largest H.264/H.265 profile; sub stream: the smallest other one. */
export function pickStreams(profiles: MediaProfile[]): { main: MediaProfile | null; sub: MediaProfile | null } {
  const video = profiles.filter((p) => p.encoding === null || /^(H264|H265|HEVC)$/i.test(p.encoding));
  const sorted = [...(video.length ? video : profiles)].sort((a, b) => pixels(b) - pixels(a));
  const main = sorted[0] ?? null;
  const sub = sorted.length > 1 ? (sorted[sorted.length - 1] ?? null) : null;
  return { main, sub };
}
