import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type AppConfig } from './schema.ts';

/** Raised when configuration is invalid; `problems` each name a path. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Environment variables with the prefix that are not config paths. */
const RESERVED_ENV = new Set(['CCC_PROFILE', 'CCC_SECRET_KEY', 'CCC_CONFIG_DIR', 'CCC_ADMIN_PASSWORD']);
const ENV_PREFIX = 'CCC_';

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars replace. */
export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** `SERVER__BODY_LIMIT_KB` → ['server', 'bodyLimitKb'] */
function envKeyToPath(key: string): string[] {
  return key.split('__').map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

export function envOverrides(env: NodeJS.ProcessEnv): { tree: Tree; problems: string[] } {
  const tree: Tree = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || RESERVED_ENV.has(key) || raw === undefined) continue;
    const segs = envKeyToPath(key.slice(ENV_PREFIX.length));
    if (segs.some((s) => s === '' || s === '__proto__' || s === 'constructor' || s === 'prototype')) {
      problems.push(`${key}: not a configuration path`);
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch {
      problems.push(`${key}: value is not a valid YAML scalar`);
      continue;
    }
    let node = tree;
    segs.forEach((seg, i) => {
      if (i === segs.length - 1) node[seg] = value;
      else {
        const next = node[seg];
        node = isTree(next) ? next : (node[seg] = {});
      }
    });
  }
  return { tree, problems };
}

function readYaml(file: string): Tree {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isTree(doc)) throw new ConfigError([`${file}: top level must be a mapping`]);
  return doc;
}

export interface LoadOptions {
  configDir?: string;
  profile?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Extra overrides applied last (tests). */
  overrides?: Tree;
}

/**
 * Builds the configuration: config/default.yaml, then config/<profile>.yaml,
 * then CCC_* environment variables, then `overrides`; validates it strictly.
 */
export function loadConfig(opts: LoadOptions = {}): AppConfig {
  const env = opts.env ?? process.env;
  const dir = opts.configDir ?? env.CCC_CONFIG_DIR ?? path.resolve(import.meta.dirname, '../../../config');
  const profile = opts.profile ?? env.CCC_PROFILE ?? null;
  let tree = readYaml(path.join(dir, 'default.yaml'));
  if (profile) {
    if (!/^[a-z0-9-]+$/.test(profile)) throw new ConfigError([`profile: "${profile}" is not a valid profile name`]);
    const file = path.join(dir, `${profile}.yaml`);
    if (!existsSync(file)) throw new ConfigError([`profile: no file ${file}`]);
    tree = deepMerge(tree, readYaml(file));
  }
  const { tree: fromEnv, problems } = envOverrides(env);
  if (problems.length) throw new ConfigError(problems);
  // DATABASE_URL (what docker-compose and most platforms set) stands in for storage.postgres.url.
  if (env.DATABASE_URL) tree = deepMerge(tree, { storage: { postgres: { url: env.DATABASE_URL } } });
  tree = deepMerge(tree, fromEnv);
  if (opts.overrides) tree = deepMerge(tree, opts.overrides);
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const at = issue.path.length ? issue.path.join('.') : '(root)';
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((k) => `${at === '(root)' ? '' : at + '.'}${k}: unknown key`).join('\n  ');
        }
        return `${at}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}
