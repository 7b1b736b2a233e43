/** Time and timers behind one interface, so backoff, watchdog and idle timers can be driven by a fake clock. */
/** Opaque: whatever `setTimeout` of the clock returned. */
export type TimerHandle = object;

export interface TimerClock {
  /** Milliseconds since the epoch (comparable with file mtimes on the real clock). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemTimerClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    if (h) clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export const sleepOn = (clock: TimerClock, ms: number) =>
  new Promise<void>((resolve) => {
    clock.setTimeout(resolve, ms);
  });
