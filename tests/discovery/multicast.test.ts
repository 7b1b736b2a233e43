/**
 * Multicast WS-Discovery, in a network namespace of its own with multicast
 * routed to its loopback: no packet can reach a real network. Needs root and
 * iproute2; elsewhere it skips with the reason (and fails under
 * REQUIRE_SERVICES=1, as in CI).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ns = `ccc-wsd-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

function makeNamespace(): string | null {
  try {
    ip('netns', 'add', ns);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'multicast', 'on');
    ip('netns', 'exec', ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    return null;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
  }
}

const why = makeNamespace();
if (why) {
  const msg = `multicast discovery test: cannot make a network namespace (${why})`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${msg}; REQUIRE_SERVICES=1`);
  console.warn(`SKIP ${msg}`);
}

afterAll(() => {
  if (!why) spawnSync('ip', ['netns', 'del', ns]);
});

describe.skipIf(why !== null)('multicast WS-Discovery in a private namespace', () => {
  it('finds every simulated camera by one multicast probe', () => {
    const child = path.resolve(import.meta.dirname, 'multicast-child.ts');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, child], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      expected: string[];
      matches: { xaddrs: string[] }[];
    };
    expect(out.expected).toHaveLength(4);
    expect(out.matches.flatMap((m) => m.xaddrs).sort()).toEqual([...out.expected].sort());
  });
});
