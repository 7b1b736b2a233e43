/**
 * docker-compose.yml cannot be run here (no Docker engine): this checks it against what
 * tests/deploy/topology.test.ts runs as processes — the same services, platform environment the strict config
 * schema accepts (and that the topology test passes on), read with Compose's interpolation: both instances
 * on PostgreSQL, at the postgres service, as the user, database and password that service is created with —
 * and the nginx configuration it mounts (the file the topology test's nginx reads), with its marked upstreams
 * naming the platform services at their port.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config/load.ts';
import {
  NGINX_CONF,
  PLATFORM_SERVICES,
  POSTGRES_SERVICE,
  PROXY_SERVICE,
  REDIS_SERVICE,
  REPO_ROOT,
  composeEnv,
  interpolate,
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
/** What an operator's environment (or .env) gives: the two secrets compose requires. */
const operator = { CCC_SECRET_KEY: 'c2VjcmV0', POSTGRES_PASSWORD: 'pw-from-env_1' };
/** A platform service's environment as Compose passes it with `operator`'s values. */
const resolved = (name: string) => composeEnv(compose, name, operator);

describe('docker-compose.yml', () => {
  it('runs the topology the test runs: two platform instances, the proxy, PostgreSQL, Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [...PLATFORM_SERVICES, PROXY_SERVICE, POSTGRES_SERVICE, REDIS_SERVICE].sort(),
    );
  });

  it('runs PostgreSQL 15 on a volume of its own, with a health check and no published port', () => {
    const pg = svc(POSTGRES_SERVICE);
    expect(pg.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(pg.ports ?? []).toEqual([]);
    expect(pg.restart).toBe('unless-stopped');
    const [volume, target] = (pg.volumes ?? [])[0]!.split(':');
    expect(pg.volumes).toHaveLength(1);
    // The official image keeps its cluster there (PGDATA).
    expect(target).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    // A volume of its own: no platform instance mounts it.
    for (const name of PLATFORM_SERVICES)
      expect((svc(name).volumes ?? []).map((v) => v.split(':')[0])).not.toContain(volume);
    const env = composeEnv(compose, POSTGRES_SERVICE, operator);
    expect(env['POSTGRES_PASSWORD']).toBe(operator.POSTGRES_PASSWORD);
    expect(pg.healthcheck?.test).toEqual(['CMD', 'pg_isready', '-U', env['POSTGRES_USER'], '-d', env['POSTGRES_DB']]);
  });

  it('puts both instances on that PostgreSQL: the URL names its service, user, database and password', () => {
    const pg = composeEnv(compose, POSTGRES_SERVICE, operator);
    for (const name of PLATFORM_SERVICES) {
      const config = loadConfig({ env: resolved(name) });
      expect(config.storage.driver).toBe('postgres');
      const url = new URL(config.storage.postgres.url);
      expect(url.protocol).toBe('postgres:');
      expect(url.hostname).toBe(POSTGRES_SERVICE);
      expect(url.port || '5432').toBe('5432');
      expect(decodeURIComponent(url.username)).toBe(pg['POSTGRES_USER']);
      expect(decodeURIComponent(url.password)).toBe(pg['POSTGRES_PASSWORD']);
      expect(url.pathname).toBe(`/${pg['POSTGRES_DB']}`);
      // Started once the database accepts connections.
      expect(svc(name).depends_on?.[POSTGRES_SERVICE]?.condition).toBe('service_healthy');
    }
  });

  it('refuses to start without the secrets (Compose stops at the interpolation)', () => {
    for (const missing of Object.keys(operator)) {
      const env = { ...operator, [missing]: '' };
      expect(() => composeEnv(compose, PLATFORM_SERVICES[0], env), missing).toThrow(new RegExp(missing));
    }
    expect(() => composeEnv(compose, POSTGRES_SERVICE, { ...operator, POSTGRES_PASSWORD: '' })).toThrow();
    // Compose's own rules, as this file reads them.
    expect(interpolate('a${X:-d}b$${Y}', {})).toBe('adb${Y}');
    expect(interpolate('${X-d}', { X: '' })).toBe('');
    expect(() => interpolate('${X:?say}', { X: '' })).toThrow(/X: say/);
  });

  it('gives both instances the same image, environment, data volume and health check, and no published port', () => {
    const [a, b] = PLATFORM_SERVICES.map(svc);
    for (const s of [a!, b!]) {
      // The recordings (recording.dir, under ./data) on one volume both instances mount.
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
      const env = resolved(name);
      // Nothing but the platform's own variables and DATABASE_URL, which the platform reads too.
      expect(Object.keys(env).filter((k) => !k.startsWith('CCC_'))).toEqual(['DATABASE_URL']);
      const config = loadConfig({ env });
      expect(config.server.host).toBe('0.0.0.0');
      expect(config.server.trustProxy).toBe(true);
      expect(config.redis.url).toBe(`redis://${REDIS_SERVICE}:6379`);
      // The recordings inside the shared volume (WORKDIR /app).
      expect(config.recording.dir).toBe('./data/recordings');
      // What the topology test's processes receive as compose sets it (it adds its own DATABASE_URL, Redis,
      // address and secret): the driver comes from here.
      expect(platformEnv(compose, name)).toEqual({ CCC_SERVER__TRUST_PROXY: 'true', CCC_STORAGE__DRIVER: 'postgres' });
      expect(() =>
        loadConfig({ env: { ...platformEnv(compose, name), DATABASE_URL: 'postgres://u@127.0.0.1:5432/d' } }),
      ).not.toThrow();
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
    const port = loadConfig({ env: resolved(PLATFORM_SERVICES[0]) }).server.port;
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
