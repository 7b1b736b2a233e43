/**
 * The alert store's cursor and replay, without React (AlertsProvider drives it; tests/alerts/cluster.test.ts
 * drives it against two real server instances and a real Redis outage).
 *
 * - A replay fetches every change after the cursor, page by page (GET /alerts?since=), and moves the cursor
 *   to the last row it read. Runs on every (re)connect and on `realtime:resync`.
 * - A live push moves the cursor only while no replay runs: a replay in flight has not yet read the rows
 *   between the cursor and that push.
 * - `realtime:resync {alertsAfter}`: the cluster's fan-out was away, so pushes from other instances may be
 *   missing although this socket never dropped and its cursor moved on. The cursor goes back to the lower of
 *   the two and a replay runs; rows already held are merged by seq, so nothing is shown twice.
 */
import type { AlertView, Page } from '../../../server/src/api/contract.ts';

export type FetchAlertPage = (since: number, limit: number, signal: AbortSignal) => Promise<Page<AlertView>>;

export interface ReplayOptions {
  fetchPage: FetchAlertPage;
  /** Each page read, oldest first. `catchingUp`: false for the very first replay (history, not news). */
  onPage(items: readonly AlertView[], catchingUp: boolean): void;
  pageSize?: number;
  maxPages?: number;
}

export const RESYNC_JITTER_MS = 2_000;

export class AlertReplay {
  private cursor = 0;
  private running: AbortController | null = null;
  private replayedOnce = false;
  /** Resyncs pausing before their replay: the rewound cursor must not move meanwhile either. */
  private waiting = 0;
  private readonly opts: ReplayOptions;

  constructor(opts: ReplayOptions) {
    this.opts = opts;
  }

  /** Highest seq this store holds everything up to (as far as it knows). */
  get position(): number {
    return this.cursor;
  }

  get syncing(): boolean {
    return this.running !== null || this.waiting > 0;
  }

  /** A live push was merged. */
  live(seq: number): void {
    if (!this.syncing) this.cursor = Math.max(this.cursor, seq);
  }

  /** The server says pushes after `alertsAfter` may have been lost; call `replay()` next. */
  rewind(alertsAfter: number): void {
    if (Number.isInteger(alertsAfter) && alertsAfter >= 0) this.cursor = Math.min(this.cursor, alertsAfter);
  }

  /**
   * `realtime:resync`: rewind, then replay after a random pause of up to `jitterMs`, so the hundreds of
   * consoles told at the same moment do not all ask at once. Resolves like `replay()`.
   */
  async resync(alertsAfter: number, jitterMs = RESYNC_JITTER_MS): Promise<boolean> {
    this.rewind(alertsAfter);
    this.waiting++;
    try {
      const pause = Math.random() * jitterMs;
      if (pause >= 1) await new Promise((r) => setTimeout(r, pause));
    } finally {
      this.waiting--;
    }
    return this.replay();
  }

  /** Reads every change after the cursor. A newer call aborts an older one. Resolves false when aborted. */
  async replay(): Promise<boolean> {
    this.running?.abort();
    const ctl = new AbortController();
    this.running = ctl;
    const size = this.opts.pageSize ?? 500;
    try {
      for (let i = 0; i < (this.opts.maxPages ?? 40); i++) {
        const page = await this.opts.fetchPage(this.cursor, size, ctl.signal);
        if (ctl.signal.aborted) return false;
        this.opts.onPage(page.items, this.replayedOnce);
        const last = page.items[page.items.length - 1];
        if (last) this.cursor = Math.max(this.cursor, last.seq);
        if (!page.nextCursor) break;
      }
      this.replayedOnce = true;
      return true;
    } catch (err) {
      if (ctl.signal.aborted) return false;
      throw err;
    } finally {
      if (this.running === ctl) this.running = null;
    }
  }

  abort(): void {
    this.running?.abort();
    this.running = null;
  }
}
