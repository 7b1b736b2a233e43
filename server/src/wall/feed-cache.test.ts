/**
 * The kept point feeds (feed-cache.ts): one build per jurisdiction and version; a read during which the
 * version moved is never served; walls opening together share one build; each jurisdiction has its own.
 */
import { describe, expect, it } from 'vitest';
import { createFeedCache } from './feed-cache.ts';

function setup(maxEntries = 4) {
  let version = 0;
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
      return new TextEncoder().encode(`${path}@${version}`);
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
    onBuild: (f: (() => void) | null) => (duringBuild = f),
    holdBuilds: () => (hold = true),
    releaseBuild: () => release?.(),
  };
}

describe('kept point feeds', () => {
  it('builds a jurisdiction once while the version stands, and again after it moves', async () => {
    const s = setup();
    expect(await s.text('/1/')).toBe('/1/@0');
    expect(await s.text('/1/')).toBe('/1/@0 (cached)');
    s.bump();
    expect(await s.text('/1/')).toBe('/1/@1');
    expect(await s.text('/1/')).toBe('/1/@1 (cached)');
    expect(s.built).toEqual(['/1/', '/1/']);
  });

  it('never serves a read during which the version moved (a commit during the read)', async () => {
    const s = setup();
    s.onBuild(() => s.bump());
    expect(await s.text('/1/')).toBe('/1/@1');
    s.onBuild(null);
    // Not served from the mixed read: built again, and kept this time.
    expect(await s.text('/1/')).toBe('/1/@1');
    expect(await s.text('/1/')).toBe('/1/@1 (cached)');
    expect(s.built).toHaveLength(2);
  });

  it('never serves one jurisdiction the feed of another', async () => {
    const s = setup();
    expect(await s.text('/1/2/')).toBe('/1/2/@0');
    expect(await s.text('/1/3/')).toBe('/1/3/@0');
    expect(await s.text('/1/2/')).toBe('/1/2/@0 (cached)');
    expect(await s.text('/1/3/')).toBe('/1/3/@0 (cached)');
  });

  it('shares one build among walls opening at once', async () => {
    const s = setup();
    s.holdBuilds();
    const answers = [s.text('/1/'), s.text('/1/'), s.text('/1/')];
    await new Promise((r) => setTimeout(r, 10));
    s.releaseBuild();
    expect(await Promise.all(answers)).toEqual(['/1/@0', '/1/@0', '/1/@0']);
    expect(s.built).toEqual(['/1/']);
  });

  it('keeps at most maxEntries jurisdictions, dropping the least recently served', async () => {
    const s = setup(2);
    await s.text('/a/');
    await s.text('/b/');
    await s.text('/a/');
    await s.text('/c/');
    expect(s.cache.size()).toBe(2);
    expect(await s.text('/a/')).toBe('/a/@0 (cached)');
    expect(await s.text('/b/')).toBe('/b/@0');
  });
});
