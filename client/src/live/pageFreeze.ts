/**
 * Tells a player's watchdog when the page itself stood still (issue 12, item 11).
 *
 * A watchdog judges the picture by how long `currentTime` has not moved. When the page's main thread is blocked
 * (a long task, the map redrawing 50,000 points on a loaded machine, a tab coming back from the background),
 * its timer fires late and every tile on the wall would see the same "frozen" span at once, though the video
 * was not at fault: 15 of 16 tiles went to reconnecting together. A tick that comes much later than its
 * interval says so, and the watchdog gives the picture a fresh start instead of blaming it.
 */
export interface TickClock {
  /** Milliseconds this tick came late beyond `slackMs` (0 for a tick on time). Call once per tick. */
  lateBy(now: number): number;
}

export function tickClock(intervalMs: number, slackMs = 2 * intervalMs): TickClock {
  let last: number | null = null;
  return {
    lateBy(now) {
      const gap = last === null ? 0 : now - last;
      last = now;
      return gap > intervalMs + slackMs ? gap - intervalMs : 0;
    },
  };
}
