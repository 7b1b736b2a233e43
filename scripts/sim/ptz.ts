/**
 * PTZ dome mechanics in ONVIF generic spaces: pan and tilt in [-1, 1] (pan wraps, as a dome turns
 * endlessly), zoom in [0, 1]. Positions are computed from velocity and elapsed time, so no timer runs.
 */

export interface PtzPosition {
  pan: number;
  tilt: number;
  zoom: number;
}

export interface PtzPreset extends PtzPosition {
  token: string;
  name: string;
}

/** Units per second at velocity 1: a full pan turn (2 units) in 4 s, full zoom in 4 s. */
const PAN_TILT_SPEED = 0.5;
const ZOOM_SPEED = 0.25;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const wrap = (v: number) => {
  if (v >= -1 && v < 1) return v;
  const w = ((((v + 1) % 2) + 2) % 2) - 1;
  return Object.is(w, -0) ? 0 : w;
};
const finite = (v: number | undefined, d = 0) => (v !== undefined && Number.isFinite(v) ? v : d);

export class PtzState {
  #pos: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };
  #vel = { pan: 0, tilt: 0, zoom: 0 };
  #since = 0;
  #until = Infinity;
  readonly presets = new Map<string, PtzPreset>();
  #nextToken = 1;
  #home: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };

  constructor(presets: Array<{ name: string } & PtzPosition>) {
    for (const p of presets) {
      const token = String(this.#nextToken++);
      this.presets.set(token, { token, ...p });
    }
  }

  /** Position now, folding in any continuous move. */
  status(nowMs: number): PtzPosition & { moving: boolean; movingPanTilt: boolean; movingZoom: boolean } {
    this.#settle(nowMs);
    const movingPanTilt = this.#vel.pan !== 0 || this.#vel.tilt !== 0;
    const movingZoom = this.#vel.zoom !== 0;
    return { ...this.#pos, moving: movingPanTilt || movingZoom, movingPanTilt, movingZoom };
  }

  #settle(nowMs: number): void {
    const end = Math.min(nowMs, this.#until);
    const dt = Math.max(0, end - this.#since) / 1000;
    if (dt > 0) {
      this.#pos = {
        pan: wrap(this.#pos.pan + this.#vel.pan * PAN_TILT_SPEED * dt),
        tilt: clamp(this.#pos.tilt + this.#vel.tilt * PAN_TILT_SPEED * dt, -1, 1),
        zoom: clamp(this.#pos.zoom + this.#vel.zoom * ZOOM_SPEED * dt, 0, 1),
      };
    }
    this.#since = nowMs;
    if (nowMs >= this.#until) {
      this.#vel = { pan: 0, tilt: 0, zoom: 0 };
      this.#until = Infinity;
    }
  }

  continuousMove(nowMs: number, v: Partial<PtzPosition>, timeoutMs?: number): void {
    this.#settle(nowMs);
    this.#vel = {
      pan: clamp(finite(v.pan), -1, 1),
      tilt: clamp(finite(v.tilt), -1, 1),
      zoom: clamp(finite(v.zoom), -1, 1),
    };
    this.#until = timeoutMs && timeoutMs > 0 ? nowMs + timeoutMs : Infinity;
  }

  stop(nowMs: number, panTilt = true, zoom = true): void {
    this.#settle(nowMs);
    if (panTilt) this.#vel.pan = this.#vel.tilt = 0;
    if (zoom) this.#vel.zoom = 0;
  }

  absoluteMove(nowMs: number, p: Partial<PtzPosition>): void {
    this.stop(nowMs);
    this.#pos = {
      pan: wrap(finite(p.pan, this.#pos.pan)),
      tilt: clamp(finite(p.tilt, this.#pos.tilt), -1, 1),
      zoom: clamp(finite(p.zoom, this.#pos.zoom), 0, 1),
    };
  }

  relativeMove(nowMs: number, d: Partial<PtzPosition>): void {
    this.#settle(nowMs);
    this.absoluteMove(nowMs, {
      pan: this.#pos.pan + finite(d.pan),
      tilt: this.#pos.tilt + finite(d.tilt),
      zoom: this.#pos.zoom + finite(d.zoom),
    });
  }

  gotoPreset(nowMs: number, token: string): boolean {
    const p = this.presets.get(token);
    if (!p) return false;
    this.absoluteMove(nowMs, p);
    return true;
  }

  gotoHome(nowMs: number): void {
    this.absoluteMove(nowMs, this.#home);
  }

  setHome(nowMs: number): void {
    this.#settle(nowMs);
    this.#home = { ...this.#pos };
  }

  setPreset(nowMs: number, name: string | undefined, token: string | undefined): string | undefined {
    this.#settle(nowMs);
    if (token !== undefined && !this.presets.has(token)) return undefined;
    if (token === undefined && this.presets.size >= 255) return undefined;
    const t = token ?? String(this.#nextToken++);
    this.presets.set(t, { token: t, name: name || `Preset ${t}`, ...this.#pos });
    return t;
  }

  removePreset(token: string): boolean {
    return this.presets.delete(token);
  }
}

/** Presets a technician would have set on a junction dome. */
export const DEFAULT_PRESETS = [
  { name: '路口北向', pan: 0, tilt: 0.1, zoom: 0 },
  { name: '路口南向', pan: -1, tilt: 0.1, zoom: 0 },
  { name: '广场全景', pan: 0.5, tilt: -0.2, zoom: 0 },
  { name: '学校门口', pan: -0.5, tilt: 0.3, zoom: 0.6 },
];
