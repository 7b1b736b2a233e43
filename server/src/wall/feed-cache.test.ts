/**
 * The kept point feeds (feed-cache.ts): one build per jurisdiction and version; a read during which the
 * version moved is never served; walls opening together share one build; each jurisdiction has its own.
 */
import { describe, expect, it } from 'vitest';
import { createFeedCache } from './feed-cache.ts';

function setup(maxEntries = 4) {
  let version = 0;
  /** The volatile part (statuses), read again for every answer from the kept feed. */
  let status = 'a';
  /** Runs while the statuses are read (to move the version then). */
  let duringFresh: (() => void) | null = null;
  const built: string[] = [];
  /** Runs while a build reads (to change the version mid-read). */
  let duringBuild: (() => void) | null = null;
  let release: (() => void) | null = null;
  let hold = false;
  const cache = createFeedCache({
    version: async () => version,
    build: async (path) => {
      built.push(path);
      duringBuild?.();
      if (hold) await new Promise<void>((r) => (release = r));
      return new TextEncoder().encode(`${path}@${version}:${status}`);
    },
    fresh: async (_path, kept) => {
      duringFresh?.();
      const text = new TextDecoder().decode(kept);
      return new TextEncoder().encode(`${text.slice(0, text.lastIndexOf(':'))}:${status}`);
    },
    maxEntries,
  });
  const text = async (path: string) => {
    const a = await cache.feed(path);
    return `${new TextDecoder().decode(a.bytes)}${a.cached ? ' (cached)' : ''}`;
  };
  return {
    cache,
    built,
    text,
    bump: () => version++,
    setStatus: (s: string) => (status = s),
    onFresh: (f: (() => void) | null) => (duringFresh = f),
    onBuild: (f: (() => void) | null) => (duringBuild = f),
    holdBuilds: () => (hold = true),
    releaseBuild: () => release?.(),
  };
}

describe('kept point feeds', () => {
  it('builds a jurisdiction once while the version stands, and again after it moves', async () => {
    const s = setup();
    expect(await s.text('/1/')).toBe('/1/@0:a');
    expect(await s.text('/1/')).toBe('/1/@0:a (cached)');
    s.bump();
    expect(await s.text('/1/')).toBe('/1/@1:a');
    expect(await s.text('/1/')).toBe('/1/@1:a (cached)');
    expect(s.built).toEqual(['/1/', '/1/']);
  });

  it('never serves a read during which the version moved (a commit during the read)', async () => {
    const s = setup();
    s.onBuild(() => s.bump());
    expect(await s.text('/1/')).toBe('/1/@1:a');
    s.onBuild(null);
    // Not served from the mixed read: built again, and kept this time.
    expect(await s.text('/1/')).toBe('/1/@1:a');
    expect(await s.text('/1/')).toBe('/1/@1:a (cached)');
    expect(s.built).toHaveLength(2);
  });

  it('never serves one jurisdiction the feed of another', async () => {
    const s = setup();
    expect(await s.text('/1/2/')).toBe('/1/2/@0:a');
    expect(await s.text('/1/3/')).toBe('/1/3/@0:a');
    expect(await s.text('/1/2/')).toBe('/1/2/@0:a (cached)');
    expect(await s.text('/1/3/')).toBe('/1/3/@0:a (cached)');
  });

  it('shares one build among walls opening at once', async () => {
    const s = setup();
    s.holdBuilds();
    const answers = [s.text('/1/'), s.text('/1/'), s.text('/1/')];
    await new Promise((r) => setTimeout(r, 10));
    s.releaseBuild();
    expect(await Promise.all(answers)).toEqual(['/1/@0:a', '/1/@0:a', '/1/@0:a']);
    expect(s.built).toEqual(['/1/']);
  });

  it('answers the statuses of now from the kept feed, without reading the points again', async () => {
    const s = setup();
    expect(await s.text('/1/')).toBe('/1/@0:a');
    s.setStatus('b');
    expect(await s.text('/1/')).toBe('/1/@0:b (cached)');
    expect(s.built).toEqual(['/1/']);
  });

  it('reads everything again when the points moved while the statuses were read', async () => {
    const s = setup();
    await s.text('/1/');
    s.onFresh(() => s.bump());
    expect(await s.text('/1/')).toBe('/1/@1:a');
    expect(s.built).toHaveLength(2);
  });

  it('keeps at most maxEntries jurisdictions, dropping the least recently served', async () => {
    const s = setup(2);
    await s.text('/a/');
    await s.text('/b/');
    await s.text('/a/');
    await s.text('/c/');
    expect(s.cache.size()).toBe(2);
    expect(await s.text('/a/')).toBe('/a/@0:a (cached)');
    expect(await s.text('/b/')).toBe('/b/@0:a');
  });
});
