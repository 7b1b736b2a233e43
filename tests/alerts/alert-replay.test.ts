/**
 * The console's alert cursor (client/src/alerts/alertReplay.ts) without a server: what moves it and what
 * must not. The whole path, with two instances and a Redis outage, is tests/alerts/cluster.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AlertReplay } from '../../client/src/alerts/alertReplay.ts';
import type { AlertView, Page } from '../../server/src/api/contract.ts';

const alert = (id: number, seq: number) => ({ id, seq }) as AlertView;

/** A server holding `rows`; records each `since` it is asked for. */
function server(rows: AlertView[]) {
  const asked: number[] = [];
  const fetchPage = (since: number, limit: number): Promise<Page<AlertView>> => {
    asked.push(since);
    const items = rows.filter((r) => r.seq > since).slice(0, limit);
    const more = rows.filter((r) => r.seq > since).length > limit;
    return Promise.resolve({ items, nextCursor: more ? String(items[items.length - 1]!.seq) : null });
  };
  return { asked, fetchPage };
}

describe('the console alert cursor', () => {
  it('replays page by page and resumes after the last row read', async () => {
    const s = server([alert(1, 1), alert(2, 2), alert(3, 3)]);
    const seen: number[] = [];
    const feed = new AlertReplay({
      fetchPage: s.fetchPage,
      onPage: (items) => seen.push(...items.map((a) => a.id)),
      pageSize: 2,
    });
    expect(await feed.replay()).toBe(true);
    expect(seen).toEqual([1, 2, 3]);
    expect(s.asked).toEqual([0, 2]);
    expect(feed.position).toBe(3);
  });

  it('a resync rewinds, and live pushes during its pause do not move the cursor past what it must read', async () => {
    const s = server([alert(1, 4), alert(2, 5), alert(3, 9)]);
    const feed = new AlertReplay({ fetchPage: s.fetchPage, onPage: () => {} });
    feed.live(9);
    expect(feed.position).toBe(9);
    const done = feed.resync(3, 50);
    feed.live(12);
    expect(feed.position).toBe(3);
    expect(await done).toBe(true);
    expect(s.asked).toEqual([3]);
    expect(feed.position).toBe(9);
    // Idle again: live pushes move it.
    feed.live(12);
    expect(feed.position).toBe(12);
  });

  it('never rewinds forward, and ignores a value that is not a cursor', () => {
    const feed = new AlertReplay({ fetchPage: server([]).fetchPage, onPage: () => {} });
    feed.live(7);
    feed.rewind(20);
    feed.rewind(-1);
    feed.rewind(Number.NaN);
    expect(feed.position).toBe(7);
  });
});
