/**
 * One source of truth for the deployment (issue 13): docker-compose.yml and deploy/nginx.conf, read the same
 * way by the test that checks the compose file (compose.test.ts) and by the test that runs the topology as
 * processes on loopback (topology.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
export const NGINX_CONF = path.join(REPO_ROOT, 'deploy/nginx.conf');

/** The services compose runs; the topology test starts one process (or server) for each. */
export const PLATFORM_SERVICES = ['platform-a', 'platform-b'] as const;
export const PROXY_SERVICE = 'proxy';
export const REDIS_SERVICE = 'redis';
export const POSTGRES_SERVICE = 'postgres';

/**
 * Compose variables that name things inside the containers (the listening address, the PostgreSQL and Redis
 * host names) or are secrets from the operator's environment: the topology test gives its own. Every other
 * CCC_* variable of the platform services reaches the test's processes as compose sets it.
 */
export const CONTAINER_ONLY = [
  'CCC_SERVER__HOST',
  'DATABASE_URL',
  'CCC_REDIS__URL',
  'CCC_SECRET_KEY',
  'CCC_ADMIN_PASSWORD',
];

export interface ComposeService {
  build?: string;
  image?: string;
  restart?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

export interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function readCompose(): Compose {
  // merge: the platform services share one block through a YAML merge key (<<), as Compose reads it.
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as Compose;
}

/**
 * A value of the compose file with `${…}` replaced from `env`, as Compose interpolates it: `${X}` and `$X`,
 * `${X:-default}` (X unset or empty), `${X-default}` (X unset), `${X:?message}` and `${X?message}` (an error
 * when X is unset, or empty for `:?`), `$$` for a literal `$`.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const v = env[name];
      const missing = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
      if (op?.endsWith('-')) return missing ? arg! : v!;
      if (op?.endsWith('?')) {
        if (missing) throw new Error(`compose: ${name}: ${arg || 'required'}`);
        return v!;
      }
      return v ?? '';
    },
  );
}

/** `service`'s environment as Compose would pass it, with `${…}` interpolated from `env`. */
export function composeEnv(
  compose: Compose,
  service: string,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const raw = compose.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), env)]));
}

/** The CCC_* environment compose gives `service`, without the container-only variables. */
export function platformEnv(compose: Compose, service: string): Record<string, string> {
  const env = compose.services[service]?.environment ?? {};
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => k.startsWith('CCC_') && !CONTAINER_ONLY.includes(k)),
  ) as Record<string, string>;
}

const UPSTREAM_MARK = /^(\s*server\s+)(\S+)(.*#\s*topology:\s*upstream\s*)$/;
const LISTEN_MARK = /^(\s*listen\s+)([^\s;]+)(.*#\s*topology:\s*listen\s*)$/;

/** The values on deploy/nginx.conf's marked lines: the upstream servers (host:port) and the listen address. */
export function nginxMarks(conf: string): { upstreams: string[]; listen: string[] } {
  const upstreams: string[] = [];
  const listen: string[] = [];
  for (const line of conf.split('\n')) {
    const u = UPSTREAM_MARK.exec(line);
    if (u) upstreams.push(u[2]!);
    const l = LISTEN_MARK.exec(line);
    if (l) listen.push(l[2]!);
  }
  return { upstreams, listen };
}

/** deploy/nginx.conf with only the marked values replaced: the upstreams in order, then the listen address. */
export function renderNginx(conf: string, upstreams: readonly string[], listen: string): string {
  const marks = nginxMarks(conf);
  if (marks.upstreams.length !== upstreams.length || marks.listen.length !== 1) {
    throw new Error(
      `deploy/nginx.conf marks ${marks.upstreams.length} upstreams and ${marks.listen.length} listen lines; ` +
        `the topology has ${upstreams.length} instances and one proxy`,
    );
  }
  let next = 0;
  return conf
    .split('\n')
    .map((line) => line.replace(UPSTREAM_MARK, (_m, a: string, _v, b: string) => `${a}${upstreams[next++]}${b}`))
    .map((line) => line.replace(LISTEN_MARK, (_m, a: string, _v, b: string) => `${a}${listen}${b}`))
    .join('\n');
}
