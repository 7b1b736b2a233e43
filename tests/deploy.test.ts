/**
 * docker-compose.yml cannot be run here (no Docker engine); this checks that it
 * parses, holds the platform with Redis and nothing it does not run (no
 * PostgreSQL until it is a storage backend: issue 13), and that every CCC_*
 * variable it sets is accepted by the strict config schema.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../server/src/config/load.ts';

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<
    string,
    { environment?: Record<string, string>; depends_on?: Record<string, unknown>; build?: string; image?: string }
  >;
};

describe('docker-compose.yml', () => {
  it('has the platform and Redis, and promises no database the platform does not read', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['platform', 'redis']);
    expect(Object.keys(compose.services.platform!.depends_on ?? {}).sort()).toEqual(['redis']);
    expect(Object.keys(compose.services.platform!.environment ?? {})).not.toContain('DATABASE_URL');
    expect(compose.services.platform!.build).toBe('.');
  });

  it("sets only configuration the platform's strict schema accepts", () => {
    const env = Object.fromEntries(
      Object.entries(compose.services.platform!.environment ?? {})
        .filter(([k]) => k.startsWith('CCC_'))
        .map(([k, v]) => [k, v.includes('${') ? 'placeholder' : v]),
    );
    const config = loadConfig({ env });
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.redis.url).toBe('redis://redis:6379');
  });
});
