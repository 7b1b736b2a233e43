/**
 * Sends PTZ commands for one camera the way a dome wants them: one at a time,
 * in order, at most four a second (the server allows about five per user and
 * camera), and only the newest one when the user moves faster than that. A
 * stop never overtakes a move that is still on its way, so the camera cannot
 * be left turning because the last two requests crossed.
 */
import type { PtzCommand } from '@api/contract.ts';
import { ApiError } from '../api.ts';

export const PTZ_MIN_INTERVAL_MS = 250;

/** Drag distance (share of the tile) that means full speed. */
const FULL_SPEED_SHARE = 0.4;
const DEAD_ZONE = 0.08;
const STEP = 0.05;

const clamp = (v: number) => Math.max(-1, Math.min(1, v));
const quantise = (v: number) => {
  const q = Math.round(clamp(v) / STEP) * STEP;
  return Math.abs(q) < DEAD_ZONE ? 0 : Math.round(q * 100) / 100;
};

/** Pan/tilt velocity for a drag of (dx, dy) pixels on a tile of width × height: right = pan right, up = tilt up. */
export function dragVelocity(dx: number, dy: number, width: number, height: number): { pan: number; tilt: number } {
  return {
    pan: quantise(dx / Math.max(1, width * FULL_SPEED_SHARE)),
    tilt: quantise(-dy / Math.max(1, height * FULL_SPEED_SHARE)),
  };
}

export class PtzSender {
  readonly #send: (command: PtzCommand) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  #pending: PtzCommand | null = null;
  #inFlight: Promise<void> | null = null;
  #lastSentAt = -Infinity;
  #timer: number | undefined;
  #closed = false;

  constructor(send: (command: PtzCommand) => Promise<void>, onError: (err: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  /** Queues a command; a newer one replaces any that has not gone out yet. */
  push(command: PtzCommand): void {
    if (this.#closed) return;
    this.#pending = command;
    this.#pump();
  }

  /** Stops sending. A last stop, if asked for, still goes out, after any command on its way. */
  close(finalStop: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    window.clearTimeout(this.#timer);
    this.#pending = null;
    if (!finalStop) return;
    const stop = () => this.#send({ action: 'stop' }).catch(() => undefined);
    if (this.#inFlight) void this.#inFlight.then(stop);
    else void stop();
  }

  #pump(): void {
    if (this.#inFlight || this.#pending === null || this.#timer !== undefined) return;
    const wait = this.#lastSentAt + PTZ_MIN_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.#timer = window.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const command = this.#pending;
    this.#pending = null;
    this.#lastSentAt = Date.now();
    this.#inFlight = this.#send(command)
      .catch((err: unknown) => {
        if (this.#closed) return;
        if (err instanceof ApiError && err.status === 429) {
          // A dropped move is replaced by the next one; a dropped stop must be sent again.
          if (command.action === 'stop' && this.#pending === null) {
            this.#pending = command;
            this.#lastSentAt = Date.now() + (err.retryAfterSeconds ?? 1) * 1000 - PTZ_MIN_INTERVAL_MS;
          }
          return;
        }
        this.#onError(err);
      })
      .finally(() => {
        this.#inFlight = null;
        if (!this.#closed) this.#pump();
      });
  }
}
