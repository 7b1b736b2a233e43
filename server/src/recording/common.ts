/** Small pieces the recording services share: times, recorder keys, the engine's presence, the point in scope. */
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import type { AppConfig } from '../config/schema.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { RecordingEngine } from './engine.ts';

export type RecordingConfig = AppConfig['recording'];

export const ISO = (ms: number) => new Date(ms).toISOString();

/** The recorder of a point: one per point whatever the viewers. */
export const recorderKey = (cameraId: number) => `rec:${cameraId}`;
export const cameraOfKey = (key: string) => (/^rec:(\d+)$/.exec(key) ? Number(key.slice(4)) : null);

/** The engine, or 503 when this server does not record. */
export function engineOrUnavailable(engine: RecordingEngine | null, config: RecordingConfig): RecordingEngine {
  if (!engine || !config.enabled)
    throw new HttpError(503, 'recording_unavailable', 'recording is not configured on this server');
  return engine;
}

/** A point in the caller's scope; out of scope answers exactly like missing. */
export async function cameraInScope(cameras: CameraRepo, ctx: AuthContext, id: number) {
  const c = await cameras.byId(ctx.scope, id);
  if (!c) throw notFound('camera point');
  return c;
}
