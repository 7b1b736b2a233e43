/**
 * 帧率 from the stream's own timestamps (issue 17): frames decoded per second
 * of media time, not per second of wall clock. ffmpeg's `fps=` counts frames
 * against the time it has been running, so a relay that starts mid-GOP reads
 * 0 and one that catches up on a burst reads 33 for a 25 fps camera; the
 * video element's frame count against its own clock (media time, which a
 * catch-up at 1.1× advances in step) reads the camera's rate.
 */

interface Sample {
  frames: number;
  mediaTime: number;
}

/** How much media time the rate is measured over, at least and at most (seconds). */
const MIN_SPAN = 1.5;
const MAX_SPAN = 4;

export class FrameRateMeter {
  #samples: Sample[] = [];

  /** Forget everything (a seek, a new source): media time and the frame count no longer run together. */
  reset(): void {
    this.#samples = [];
  }

  /**
   * One reading (total frames decoded, media time in seconds); the rate over
   * the last few seconds of media, or null until there is enough of it.
   */
  sample(frames: number, mediaTime: number): number | null {
    const last = this.#samples.at(-1);
    // The count or the clock went back (a new source, a seek): start again.
    if (last && (frames < last.frames || mediaTime < last.mediaTime)) this.reset();
    if (last && mediaTime === last.mediaTime) return this.rate();
    this.#samples.push({ frames, mediaTime });
    while (this.#samples.length > 2 && mediaTime - this.#samples[1]!.mediaTime >= MAX_SPAN) this.#samples.shift();
    return this.rate();
  }

  rate(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last) return null;
    const span = last.mediaTime - first.mediaTime;
    if (span < MIN_SPAN) return null;
    return (last.frames - first.frames) / span;
  }
}
