import type { PtzCommand, PtzPresetView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import { createSharedCounters, type SharedCounters } from '../cluster/rate-windows.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { HttpError, conflict, notFound } from '../http/errors.ts';
import { createLogger, type Clock } from '../http/logger.ts';
import { OnvifError, createOnvifClient, type OnvifClient } from '../protocols/onvif/client.ts';
import { pickStreams } from '../protocols/onvif/profiles.ts';
import { SnapshotError, fetchSnapshot } from '../protocols/snapshot.ts';

export interface ControlDeps {
  cameras: CameraRepo;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
  timeoutMs: number;
  /** PTZ commands allowed per user and camera per second (a drag sends many). */
  ptzPerSecond: number;
  /** Where PTZ commands are counted (Redis, shared by every instance, when configured; issue 13). */
  counters?: SharedCounters;
}

const silentLog = createLogger('error');

/** PTZ commands are counted in windows this long: a drag may burst, the rate over a window holds. */
const PTZ_WINDOW_MS = 2000;

/** A device error reaching the caller: 502 with what the camera did. */
const deviceError = (what: string, err: unknown) =>
  new HttpError(502, 'device_error', `${what}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));

/**
 * Live control of a camera over ONVIF: PTZ moves, presets and snapshots.
 * Each call is scoped, each PTZ command rate-limited and audited.
 */
export function createCameraControl(deps: ControlDeps) {
  const { cameras, secrets, audit, clock } = deps;
  // One ONVIF client per camera, reused: it keeps the device clock offset and service addresses.
  const clients = new Map<
    number,
    {
      client: OnvifClient;
      profile: string | null;
      videoSource: string | null;
      /** The profiles of the point's main and sub streams (as discovery picked them). */
      streams: { main: string | null; sub: string | null };
      version: number;
      at: number;
    }
  >();
  /** Sessions being made: concurrent callers (a relay start and a PTZ command) share one. */
  const pending = new Map<number, Promise<Awaited<ReturnType<typeof connect>>>>();
  const counters = deps.counters ?? createSharedCounters({ redisUrl: null, keyPrefix: '', clock, log: silentLog });
  const ptzCommands = counters.counter('ptz', PTZ_WINDOW_MS);

  async function camera(ctx: AuthContext, id: number): Promise<CameraPoint> {
    const c = await cameras.byId(ctx.scope, id);
    if (!c) throw notFound('camera point');
    return c;
  }

  async function session(c: CameraPoint) {
    const cached = clients.get(c.id);
    if (cached && cached.version === c.version && clock.now().getTime() - cached.at < 10 * 60_000) return cached;
    if (!c.onvifUrl) throw conflict('camera: no ONVIF address registered', [{ path: 'onvifUrl', message: 'missing' }]);
    let p = pending.get(c.id);
    if (!p) {
      p = connect(c, c.onvifUrl).finally(() => pending.delete(c.id));
      pending.set(c.id, p);
    }
    return p;
  }

  async function connect(c: CameraPoint, onvifUrl: string) {
    const creds = c.credentialsSealed
      ? (JSON.parse(secrets.open(c.credentialsSealed)) as { username: string; password: string })
      : null;
    const client = createOnvifClient({ xaddr: onvifUrl, credentials: creds, timeoutMs: deps.timeoutMs });
    try {
      await client.getSystemDateAndTime().catch(() => undefined);
      const profiles = await client.getProfiles();
      const chosen = profiles.find((p) => p.hasPtz) ?? profiles[0];
      const profile = chosen?.token ?? null;
      const videoSource = chosen?.videoSourceToken ?? null;
      const { main, sub } = pickStreams(profiles);
      const streams = { main: main?.token ?? null, sub: sub?.token ?? main?.token ?? null };
      const entry = { client, profile, videoSource, streams, version: c.version, at: clock.now().getTime() };
      clients.set(c.id, entry);
      if (clients.size > 2000) clients.delete(clients.keys().next().value!);
      return entry;
    } catch (err) {
      throw deviceError('camera did not answer', err);
    }
  }

  async function allow(key: string): Promise<boolean> {
    const c = await ptzCommands.hit(key);
    return c.count <= (deps.ptzPerSecond * PTZ_WINDOW_MS) / 1000;
  }

  /** A PTZ dome of the caller's, within the per-user rate, with its ONVIF session. */
  async function steerable(ctx: AuthContext, id: number) {
    const c = await camera(ctx, id);
    if (!c.ptz) throw conflict('camera: not a PTZ camera', [{ path: 'ptz', message: 'false' }]);
    if (!(await allow(`${ctx.user.id}:${id}`))) {
      throw new HttpError(429, 'rate_limited', 'too many PTZ commands; slow down', undefined, { 'Retry-After': '1' });
    }
    const s = await session(c);
    if (!s.profile) throw deviceError('camera has no media profile', 'none');
    return { c, s: { ...s, profile: s.profile } };
  }

  /** Runs one device call and audits it as `camera.ptz` either way; device failures become 502. */
  async function audited<T>(
    ctx: AuthContext,
    ip: string | null,
    id: number,
    detail: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    let out: T;
    try {
      out = await run();
    } catch (err) {
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.ptz',
        targetType: 'camera',
        targetId: id,
        outcome: 'failed',
        detail: { ...detail, error: String(err).slice(0, 200) },
      });
      if (err instanceof OnvifError && err.kind === 'auth') clients.delete(id);
      if (err instanceof HttpError) throw err;
      throw deviceError('PTZ command failed', err);
    }
    await audit.record({
      actor: actorOf(ctx, ip),
      action: 'camera.ptz',
      targetType: 'camera',
      targetId: id,
      outcome: 'ok',
      detail,
    });
    return out;
  }

  const IRIS_STEP_DB = 1;
  const IRIS_MIN_DB = -22;

  return {
    async ptz(ctx: AuthContext, ip: string | null, id: number, cmd: PtzCommand): Promise<void> {
      const c = await camera(ctx, id);
      if (!c.ptz) throw conflict('camera: not a PTZ camera', [{ path: 'ptz', message: 'false' }]);
      if (!(await allow(`${ctx.user.id}:${id}`))) {
        throw new HttpError(429, 'rate_limited', 'too many PTZ commands; slow down', undefined, { 'Retry-After': '1' });
      }
      const s = await session(c);
      if (!s.profile) throw deviceError('camera has no media profile', 'none');
      const source = () => {
        if (!s.videoSource) throw deviceError('camera has no video source for imaging', 'none');
        return s.videoSource;
      };
      try {
        if (cmd.action === 'move') await s.client.continuousMove(s.profile, cmd, cmd.timeoutSec ?? 2);
        else if (cmd.action === 'stop') await s.client.stop(s.profile);
        else if (cmd.action === 'goto') await s.client.gotoPreset(s.profile, cmd.preset);
        else if (cmd.action === 'focus') {
          if (cmd.speed === 0) await s.client.focusStop(source());
          else await s.client.focusMove(source(), cmd.speed);
        } else {
          // Iris by steps of 1 dB from where the device says it is (0 is fully open).
          const now = (await s.client.getIris(source())) ?? 0;
          const next = Math.max(IRIS_MIN_DB, Math.min(0, now + cmd.step * IRIS_STEP_DB));
          await s.client.setIris(source(), next);
        }
      } catch (err) {
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'camera.ptz',
          targetType: 'camera',
          targetId: id,
          outcome: 'failed',
          detail: { ...cmd, error: String(err).slice(0, 200) },
        });
        if (err instanceof OnvifError && err.kind === 'auth') clients.delete(id);
        throw deviceError('PTZ command failed', err);
      }
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.ptz',
        targetType: 'camera',
        targetId: id,
        outcome: 'ok',
        detail: { ...cmd },
      });
    },

    /** SetPreset on the dome: where it looks now, under `name`; audited. */
    async setPreset(ctx: AuthContext, ip: string | null, id: number, name: string): Promise<PtzPresetView> {
      const { s } = await steerable(ctx, id);
      const token = await audited(ctx, ip, id, { action: 'set_preset', name }, () =>
        s.client.setPreset(s.profile, name),
      );
      return { token, name };
    },

    async removePreset(ctx: AuthContext, ip: string | null, id: number, token: string): Promise<void> {
      const { s } = await steerable(ctx, id);
      await audited(ctx, ip, id, { action: 'remove_preset', preset: token }, () =>
        s.client.removePreset(s.profile, token),
      );
    },

    async presets(ctx: AuthContext, id: number): Promise<PtzPresetView[]> {
      const c = await camera(ctx, id);
      if (!c.ptz) throw conflict('camera: not a PTZ camera', [{ path: 'ptz', message: 'false' }]);
      const s = await session(c);
      if (!s.profile) return [];
      try {
        return await s.client.getPresets(s.profile);
      } catch (err) {
        throw deviceError('could not read presets', err);
      }
    },

    /**
     * Asks the camera for an IDR on the profile of `quality` (ONVIF SetSynchronizationPoint), so a viewer who
     * just started its stream waits for no keyframe (issue 15). Best effort: a camera without ONVIF, or one
     * that refuses, only means the viewer waits for the next keyframe as before; the caller logs it.
     */
    async syncPoint(c: CameraPoint, quality: 'main' | 'sub'): Promise<boolean> {
      if (!c.onvifUrl) return false;
      const s = await session(c);
      const token = s.streams[quality];
      if (!token) return false;
      await s.client.setSynchronizationPoint(token, Math.min(deps.timeoutMs, 2_000));
      return true;
    },

    /** Makes the camera's ONVIF session ahead of need (a relay is starting: its keyframe request follows). */
    prepare(c: CameraPoint): void {
      if (c.onvifUrl) session(c).catch(() => undefined);
    },

    /** A JPEG from the camera's own ONVIF snapshot URI. */
    async onvifSnapshot(c: CameraPoint): Promise<Buffer> {
      const s = await session(c);
      if (!s.profile) throw deviceError('camera has no media profile', 'none');
      let uri: string;
      try {
        uri = await s.client.getSnapshotUri(s.profile);
      } catch (err) {
        throw deviceError('camera has no snapshot URI', err);
      }
      const creds = c.credentialsSealed
        ? (JSON.parse(secrets.open(c.credentialsSealed)) as { username: string; password: string })
        : null;
      try {
        return await fetchSnapshot(uri, creds, { timeoutMs: deps.timeoutMs, maxBytes: 8 * 1024 * 1024 });
      } catch (err) {
        throw deviceError('snapshot failed', err instanceof SnapshotError ? err.message : err);
      }
    },

    camera,
  };
}

export type CameraControl = ReturnType<typeof createCameraControl>;
