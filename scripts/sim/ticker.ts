/**
 * One shared pacing timer for every playing RTP session in the process (not a timer per packet or per
 * session): CPU is spent only while something plays, and the timer stops when nothing does.
 */
export interface Paced {
  /** Sends whatever is due at `nowMs`. */
  pace(nowMs: number): void;
}

export class StreamTicker {
  readonly #sessions = new Set<Paced>();
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs = 10) {
    this.#intervalMs = intervalMs;
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(s: Paced): void {
    this.#sessions.add(s);
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  remove(s: Paced): void {
    this.#sessions.delete(s);
    if (this.#sessions.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  stop(): void {
    this.#sessions.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    for (const s of this.#sessions) {
      try {
        s.pace(now);
      } catch (e) {
        // One broken session must not stop the others.
        this.#sessions.delete(s);
        console.error('camera-sim: RTP session failed:', e);
      }
    }
  }
}
