/** Scheduled windows of the daily sweep, in local time (a fixed UTC offset, as the dashboard's periods). Pure. */

export interface Window {
  from: string;
  to: string;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The window holding instant `t`, as its local date (the day it started) and its end instant, or null.
 * A window whose `to` is not after its `from` runs over midnight (22:00–04:00).
 */
export function windowAt(
  t: number,
  offsetMin: number,
  windows: readonly Window[],
): { localDate: string; endsAt: number } | null {
  const local = t + offsetMin * 60_000;
  const dayStart = Math.floor(local / 86_400_000) * 86_400_000;
  const m = (local - dayStart) / 60_000;
  for (const w of windows) {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    if (from < to) {
      if (m >= from && m < to)
        return { localDate: date(dayStart), endsAt: dayStart + to * 60_000 - offsetMin * 60_000 };
    } else if (from > to) {
      if (m >= from) return { localDate: date(dayStart), endsAt: dayStart + (1440 + to) * 60_000 - offsetMin * 60_000 };
      if (m < to)
        return { localDate: date(dayStart - 86_400_000), endsAt: dayStart + to * 60_000 - offsetMin * 60_000 };
    }
  }
  return null;
}
