import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.ts';

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('loads defaults and the demo profile', () => {
    expect(loadConfig({ env: {} }).demo.enabled).toBe(false);
    expect(loadConfig({ env: {}, profile: 'demo' }).demo.enabled).toBe(true);
  });

  it('applies environment overrides, typed as YAML scalars', () => {
    const c = loadConfig({
      env: { CCC_SERVER__PORT: '9123', CCC_SERVER__BODY_LIMIT_KB: '64', CCC_REDIS__URL: 'redis://127.0.0.1:6379' },
    });
    expect(c.server.port).toBe(9123);
    expect(c.server.bodyLimitKb).toBe(64);
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
  });

  it('names every unknown key and wrong type by path', () => {
    const p = problems(() => loadConfig({ env: { CCC_SERVER__PROT: '1', CCC_SERVER__PORT: 'eighty', CCC_NOPE: 'x' } }));
    expect(p).toEqual(expect.arrayContaining(['server.prot: unknown key', 'nope: unknown key']));
    expect(p.some((s) => s.startsWith('server.port:'))).toBe(true);
  });

  it('rejects out-of-range values and bad nested shapes', () => {
    expect(problems(() => loadConfig({ env: {}, overrides: { server: { port: 70000 } } }))[0]).toMatch(
      /^server\.port:/,
    );
    expect(problems(() => loadConfig({ env: {}, overrides: { map: { basemap: { type: 'raster' } } } }))[0]).toMatch(
      /^map\.basemap\.tiles:/,
    );
    expect(
      problems(() =>
        loadConfig({ env: {}, overrides: { extraNetworks: [{ id: 'BAD ID', name: 'x', nameEn: 'x' }] } }),
      )[0],
    ).toMatch(/^extraNetworks\.0\.id:/);
  });

  it('rejects an unknown profile and broken YAML', () => {
    expect(problems(() => loadConfig({ env: {}, profile: 'nosuch' }))[0]).toMatch(/^profile:/);
    const dir = mkdtempSync(path.join(tmpdir(), 'ccc-cfg-'));
    writeFileSync(path.join(dir, 'default.yaml'), 'server: [unclosed');
    expect(problems(() => loadConfig({ env: {}, configDir: dir }))[0]).toContain('default.yaml');
  });

  it('makes the server exit 1 naming the path', () => {
    const main = path.resolve(import.meta.dirname, '../main.ts');
    const r = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH, CCC_SERVER__PORTT: '1', CCC_STORAGE__SQLITE__PATH: ':memory:' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('server.portt: unknown key');
  });
});
