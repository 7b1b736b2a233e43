/**
 * The wall's point feed, built once per jurisdiction while its points do not change (issue 15:
 * map.first_render200k). Reading and encoding 200,000 points takes the server ~0.45 s on a quiet machine
 * and over a second under load, and every wall of a county hall opens at once at the start of a shift.
 *
 * Exact, not "fresh enough": the database keeps a version of camera_points that every insert, delete and
 * move (position, network, unit) bumps in the writing transaction itself (migration 21's triggers, SQLite). A
 * built feed is kept under the version read before its rows were, and served only while the version still is
 * that one: a commit during the read moves the version past it, so a read that mixes two states is never
 * served. A rolled-back write rolls its bump back with it. Statuses change all day (a county's cameras come
 * and go) and do not bump it: they are read again for every answer (`fresh`, one short query), checked to
 * line up with the kept points (the version the same before and after).
 *
 * Keyed by the jurisdiction's path: a feed is only ever served to the scope it was read for. Only the whole
 * jurisdiction's feed (the wall's) is kept; the registry's filtered feeds are read each time.
 */

export interface FeedCacheDeps {
  /** The database's camera_points version (read outside any transaction). */
  version: () => Promise<number>;
  /** Reads and encodes the feed of the jurisdiction under `path`. */
  build: (path: string) => Promise<Uint8Array>;
  /** The kept feed of `path` with its points' statuses as they are now; null when they do not line up. */
  fresh: (path: string, kept: Uint8Array) => Promise<Uint8Array | null>;
  /** Jurisdictions kept (the least recently served goes first). */
  maxEntries: number;
}

export interface FeedAnswer {
  bytes: Uint8Array;
  /** Served from the cache (the version unchanged since it was built). */
  cached: boolean;
}

export function createFeedCache(deps: FeedCacheDeps) {
  /** By path, in order of last use (a Map keeps insertion order: re-inserted on each use). */
  const entries = new Map<string, { version: number; bytes: Uint8Array }>();
  /** Builds in flight, by path and version: walls opening together share one. */
  const building = new Map<string, Promise<Uint8Array>>();
  /** Holds `entry` for `path` as the most recently served; the least recently served beyond maxEntries go. */
  const keep = (path: string, entry: { version: number; bytes: Uint8Array }) => {
    entries.delete(path);
    entries.set(path, entry);
    while (entries.size > deps.maxEntries) entries.delete(entries.keys().next().value!);
  };

  async function feed(path: string): Promise<FeedAnswer> {
    const before = await deps.version();
    const hit = entries.get(path);
    if (hit && hit.version === before) {
      const bytes = await deps.fresh(path, hit.bytes);
      // The statuses were read while the points were still the kept ones: they line up.
      if (bytes && (await deps.version()) === before) {
        keep(path, hit);
        return { bytes, cached: true };
      }
    }
    const key = `${before}\u0000${path}`;
    let pending = building.get(key);
    if (!pending) {
      pending = (async () => {
        const bytes = await deps.build(path);
        keep(path, { version: before, bytes });
        return bytes;
      })().finally(() => building.delete(key));
      building.set(key, pending);
    }
    return { bytes: await pending, cached: false };
  }

  return {
    feed,
    /** Jurisdictions held now (for the tests). */
    size: () => entries.size,
  };
}

export type FeedCache = ReturnType<typeof createFeedCache>;
