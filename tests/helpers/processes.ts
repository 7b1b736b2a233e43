/**
 * Several instances (issue 13): the real entry point (server/src/main.ts) as child processes, and a console's
 * alert replay over HTTP, for the cluster tests and bench:cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FetchAlertPage } from '../../client/src/alerts/alertReplay.ts';
import type { AlertView, Page } from '../../server/src/api/contract.ts';

const MAIN = path.resolve(import.meta.dirname, '../../server/src/main.ts');

/**
 * server/src/main.ts in a child process with the test profile, quiet logs and a port of its own choosing,
 * plus `env`; resolves with its base URL once it says it is running.
 */
export function startMainProcess(
  env: Record<string, string>,
  name = 'server process',
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      CCC_PROFILE: 'test',
      CCC_SERVER__PORT: '0',
      CCC_LOG__LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /running at (http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once('exit', (code, signal) => reject(new Error(`${name} exited ${code ?? signal}`)));
  });
}

/** SIGTERM, SIGKILL after 5 s; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** What a console's replay asks: GET /alerts?since= on `base` with `token`. */
export function alertPages(base: string, token: string): FetchAlertPage {
  return async (since, limit, signal) => {
    const r = await fetch(`${base}/api/v1/alerts?since=${since}&limit=${limit}`, {
      headers: { authorization: `Bearer ${token}` },
      signal,
    });
    if (r.status !== 200) throw new Error(`replay answered ${r.status}`);
    return (await r.json()) as Page<AlertView>;
  };
}
