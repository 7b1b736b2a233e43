/**
 * docker-compose.yml cannot be run here (no Docker engine): this checks it against what
 * tests/deploy/topology.test.ts runs as processes — the same services, platform environment the strict config
 * schema accepts (and that the topology test passes on), and the nginx configuration it mounts (the file the
 * topology test's nginx reads), with its marked upstreams naming the platform services at their port.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/load.ts';
import {
  NGINX_CONF,
  PLATFORM_SERVICES,
  PROXY_SERVICE,
  REDIS_SERVICE,
  REPO_ROOT,
  nginxMarks,
  platformEnv,
  readCompose,
  renderNginx,
} from './topology.ts';

const compose = readCompose();
const svc = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
/** Compose's environment with ${…} interpolations replaced by a stand-in value. */
const resolved = (env: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.includes('${') ? 'placeholder' : v]));

describe('docker-compose.yml', () => {
  it('runs the topology the test runs: two platform instances, the proxy, Redis; no PostgreSQL', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...PLATFORM_SERVICES, PROXY_SERVICE, REDIS_SERVICE].sort());
    const text = readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/DATABASE_URL|postgres:/i);
  });

  it('gives both instances the same image, environment, data volume and health check, and no published port', () => {
    const [a, b] = PLATFORM_SERVICES.map(svc);
    for (const s of [a!, b!]) {
      expect(s.build).toBe('.');
      expect(s.ports ?? []).toEqual([]);
      expect(s.volumes).toEqual(['platform-data:/app/data']);
      expect(s.depends_on?.[REDIS_SERVICE]?.condition).toBe('service_healthy');
      expect(s.healthcheck?.test.join(' ')).toContain('/api/v1/health/ready');
    }
    expect(b!.image).toBe(a!.image);
    expect(b!.environment).toEqual(a!.environment);
    // The same CCC_SECRET_KEY on both (credentials sealed on one are opened on the other), from the environment.
    expect(a!.environment?.['CCC_SECRET_KEY']).toMatch(/^\$\{CCC_SECRET_KEY:\?/);
    expect(Object.keys(compose.volumes ?? {})).toContain('platform-data');
  });

  it("sets only configuration the platform's strict schema accepts, trusting the proxy's X-Forwarded-For", () => {
    for (const name of PLATFORM_SERVICES) {
      const env = Object.fromEntries(
        Object.entries(resolved(svc(name).environment)).filter(([k]) => k.startsWith('CCC_')),
      );
      const config = loadConfig({ env });
      expect(config.server.host).toBe('0.0.0.0');
      expect(config.server.trustProxy).toBe(true);
      expect(config.redis.url).toBe(`redis://${REDIS_SERVICE}:6379`);
      // The default path, inside the shared volume (WORKDIR /app).
      expect(config.storage.sqlite.path).toBe('./data/ccc.db');
      // What the topology test's processes receive as compose sets it: accepted on its own too.
      expect(() => loadConfig({ env: platformEnv(compose, name) })).not.toThrow();
      expect(platformEnv(compose, name)).toEqual({ CCC_SERVER__TRUST_PROXY: 'true' });
    }
  });

  it('publishes only the proxy, which mounts deploy/nginx.conf with the platform services as its upstreams', () => {
    const proxy = svc(PROXY_SERVICE);
    expect(proxy.image).toMatch(/^nginx:/);
    expect(proxy.ports).toEqual(['8080:8080']);
    const mounts = (proxy.volumes ?? []).map((v) => v.split(':'));
    expect(mounts).toHaveLength(1);
    const [source, target, mode] = mounts[0]!;
    expect(path.resolve(REPO_ROOT, source!)).toBe(NGINX_CONF);
    expect(existsSync(NGINX_CONF)).toBe(true);
    // The official image includes conf.d/*.conf inside its http {} block.
    expect(target).toBe('/etc/nginx/conf.d/default.conf');
    expect(mode).toBe('ro');

    const conf = readFileSync(NGINX_CONF, 'utf8');
    const port = loadConfig({ env: resolved(svc(PLATFORM_SERVICES[0]).environment) }).server.port;
    const marks = nginxMarks(conf);
    expect(marks.upstreams).toEqual(PLATFORM_SERVICES.map((s) => `${s}:${port}`));
    expect(marks.listen).toEqual([proxy.ports![0]!.split(':')[1]]);
    for (const s of PLATFORM_SERVICES) expect(proxy.depends_on?.[s]).toBeDefined();
    // The topology test renders it by replacing exactly these values.
    const rendered = renderNginx(conf, ['127.0.0.1:1', '127.0.0.1:2'], '127.0.0.1:3');
    expect(nginxMarks(rendered)).toEqual({ upstreams: ['127.0.0.1:1', '127.0.0.1:2'], listen: ['127.0.0.1:3'] });
    expect(rendered.split('\n').length).toBe(conf.split('\n').length);
  });
});
