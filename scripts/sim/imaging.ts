/**
 * A dome's lens as the ONVIF imaging service (ver20) moves it: focus in [0, 1] driven by continuous
 * Move at a speed until Stop, and the iris in dB (0 fully open, down to -22) set through
 * SetImagingSettings. Like ptz.ts, positions come from speed and elapsed time; no timer runs.
 */

/** Focus units per second at speed 1: near to far in 4 s. */
const FOCUS_SPEED = 0.25;
export const IRIS_MIN_DB = -22;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class ImagingState {
  #focus = 0.5;
  #speed = 0;
  #since = 0;
  iris = 0;

  focus(nowMs: number): { position: number; moving: boolean } {
    this.#settle(nowMs);
    return { position: this.#focus, moving: this.#speed !== 0 };
  }

  move(nowMs: number, speed: number): void {
    this.#settle(nowMs);
    this.#speed = clamp(Number.isFinite(speed) ? speed : 0, -1, 1);
  }

  stop(nowMs: number): void {
    this.#settle(nowMs);
    this.#speed = 0;
  }

  setIris(db: number): void {
    if (Number.isFinite(db)) this.iris = clamp(db, IRIS_MIN_DB, 0);
  }

  #settle(nowMs: number): void {
    const dt = Math.max(0, nowMs - this.#since) / 1000;
    if (dt > 0 && this.#speed !== 0) this.#focus = clamp(this.#focus + this.#speed * FOCUS_SPEED * dt, 0, 1);
    this.#since = nowMs;
  }
}
