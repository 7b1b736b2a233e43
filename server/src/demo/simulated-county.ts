/**
 * The demo's live cameras: one simulated ONVIF camera (scripts/sim) behind
 * every demo point whose address is on loopback, built from the registry so
 * that points added or removed later line up after a restart. A handful get
 * faults so the wall and the online-rate panel show real offline, stalled
 * and wrong-password cameras. Demo only: main.ts loads this lazily.
 */
import path from 'node:path';
import {
  PICTURE_FAULTS,
  defaultCameraSpecs,
  startSimulator,
  type SimCameraSpec,
  type SimFaults,
  type Simulator,
} from '../../../scripts/sim/index.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Store } from '../db/store.ts';
import type { Logger } from '../http/logger.ts';
import { DEMO_ONVIF_PORT, DEMO_RTSP_PORT } from './seed.ts';

interface DemoPointRow {
  id: number;
  code: string | null;
  onvif_url: string | null;
  credentials_enc: string | null;
  ptz: number | boolean;
}

/** Deterministic faults by position: about 5 % of the county misbehaves. */
export function demoFaults(i: number): SimFaults {
  if (i % 40 === 13) return { offline: true };
  if (i % 61 === 7) return { stalledStream: true };
  if (i % 97 === 5) return { wrongPassword: true };
  // Picture faults for 视频质量诊断 (issue 16): about two of each kind. "moved" starts good and turns away
  // later (MOVED_AFTER_MS), after the first diagnosis has taken its reference scene.
  const picture = demoPictureFault(i);
  if (picture && picture !== 'moved') return { picture };
  return {};
}

/** The picture fault demo point `i` shows, if any. */
export function demoPictureFault(i: number): (typeof PICTURE_FAULTS)[number] | null {
  return i % 22 === 3 ? PICTURE_FAULTS[Math.floor(i / 22) % PICTURE_FAULTS.length]! : null;
}

/** When the demo's "moved" cameras turn away from their scene: after the first diagnosis sweep has begun. */
export const MOVED_AFTER_MS = 8 * 60_000;

export async function demoSimSpecs(store: Store, secrets: SecretBox): Promise<SimCameraSpec[]> {
  // Read straight from the table: this demo helper needs every point, unscoped, with its sealed credentials.
  const rows = await store.all<DemoPointRow>(
    'SELECT id, code, onvif_url, credentials_enc, ptz FROM camera_points ORDER BY id',
  );
  const identities = defaultCameraSpecs(rows.length, { seed: 2026 });
  const specs: SimCameraSpec[] = [];
  rows.forEach((r, i) => {
    if (!r.code || !r.onvif_url || !r.credentials_enc) return;
    let u: URL;
    try {
      u = new URL(r.onvif_url);
    } catch {
      return;
    }
    if (!/^127\.\d+\.\d+\.\d+$/.test(u.hostname) || Number(u.port) !== DEMO_ONVIF_PORT || u.hostname === '127.0.0.1')
      return;
    let creds: { username: string; password: string };
    try {
      creds = JSON.parse(secrets.open(r.credentials_enc)) as { username: string; password: string };
    } catch {
      return;
    }
    const id = identities[i]!;
    specs.push({
      ...id,
      code: r.code,
      host: u.hostname,
      username: creds.username,
      password: creds.password,
      ptz: Number(r.ptz) === 1,
      clockOffsetSec: i % 10 === 3 ? 3600 : 0,
      faults: demoFaults(i),
    });
  });
  return specs;
}

export async function startDemoSimulator(opts: {
  store: Store;
  secrets: SecretBox;
  clipDir: string;
  log: Logger;
  /** The platform's ffmpeg (system or npm-shipped); the simulator's default otherwise. */
  ffmpegPath: string | null;
}): Promise<Simulator | null> {
  const specs = await demoSimSpecs(opts.store, opts.secrets);
  if (!specs.length) return null;
  try {
    const sim = await startSimulator({
      cameras: specs,
      clipDir: path.resolve(opts.clipDir),
      ...(opts.ffmpegPath ? { ffmpegPath: opts.ffmpegPath } : {}),
      onvifPort: DEMO_ONVIF_PORT,
      rtspPort: DEMO_RTSP_PORT,
      randomEvents: true,
      // Own clips (with each camera's code burnt in) are encoded in the background, sub streams first.
      prewarm: { stream: 'sub' },
      // Modest pictures keep 400 cameras light on a small machine.
      streamOverrides: { main: { width: 1280, height: 720, fps: 25 }, sub: { width: 480, height: 270, fps: 15 } },
    });
    // By row position, as demoFaults counts.
    const codes = await opts.store.all<{ code: string | null }>('SELECT code FROM camera_points ORDER BY id');
    const simulated = new Set(specs.map((s) => s.code));
    const moved = codes.flatMap((r, i) =>
      r.code && simulated.has(r.code) && demoPictureFault(i) === 'moved' ? [r.code] : [],
    );
    const turn = setTimeout(() => {
      for (const code of moved) void sim.setFaults(code, { picture: 'moved' }).catch(() => undefined);
    }, MOVED_AFTER_MS);
    turn.unref();
    opts.log.info('demo camera simulator running', {
      cameras: specs.length,
      first: specs[0]?.host,
      last: specs[specs.length - 1]?.host,
    });
    return sim;
  } catch (err) {
    opts.log.warn('demo camera simulator could not start; the platform runs without live cameras', {
      err: String(err),
    });
    return null;
  }
}
