/**
 * GStreamer's RTSP server (Debian: python3-gi, gir1.2-gst-rtsp-server-1.0 and the base/good/ugly plugins) as
 * a camera no one on the team wrote, run by `gst-rtsp-server.py`. When it is absent a test says why and
 * skips; under REQUIRE_SERVICES=1 (CI installs it) the absence fails the test instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./gst-rtsp-server.py', import.meta.url));
/** Debian's python: the GObject bindings are installed for it, not for a pyenv or venv python on PATH. */
const PYTHON = '/usr/bin/python3';

/** True when GStreamer's RTSP server can run; otherwise prints why (or throws under REQUIRE_SERVICES=1). */
export function gstRtspAvailable(): boolean {
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0');" +
        'from gi.repository import Gst, GstRtspServer; Gst.init(None);' +
        "assert Gst.ElementFactory.find('x264enc') and Gst.ElementFactory.find('rtph264pay')",
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status === 0) return true;
  const why =
    'GStreamer RTSP server is not installed (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 ' +
    `gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly): ${(r.stderr || String(r.error ?? '')).trim().split('\n').at(-1)}`;
  if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`${why} (REQUIRE_SERVICES=1)`);
  console.warn(`SKIP: ${why}; these tests are skipped`);
  return false;
}

export interface GstRtsp {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startGstRtsp(opts: {
  host: string;
  size: string;
  udpOnly?: boolean;
  user?: string;
  password?: string;
}): Promise<GstRtsp> {
  const args = [SCRIPT, opts.host, opts.size];
  if (opts.udpOnly) args.push('--udp-only');
  if (opts.user) args.push('--user', opts.user, '--password', opts.password ?? '');
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gst-rtsp-server did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gst-rtsp-server exited with ${code}: ${err}`));
    });
  });
  return {
    url: `rtsp://${opts.host}:${port}/cam`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        child.kill('SIGTERM');
      }),
  };
}
