/**
 * 前端录像回放 — playback from the camera's own storage (ONVIF Profile G, issue 14). Counties keep 30 days on
 * the cameras' SD cards and NVRs; the platform asks the point's device where its recording holds data
 * (search service) and for a replay URI, and relays the RTSP replay (`Range: clock=`, `Scale`, sent by the
 * loopback source proxy so the camera's password stays off ffmpeg's command line) into HLS like a live
 * stream. Tickets, jurisdiction and audit are those of platform playback: one session, one point as it was,
 * every request re-checked; out of scope answers like missing.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { openCredentials } from '../crypto/credentials.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { OnvifError, createOnvifClient, type OnvifClient } from '../protocols/onvif/client.ts';
import {
  findRecordings,
  getReplayUri,
  profileGServices,
  recordedRanges,
  replayHeaders,
  type ProfileGServices,
} from '../protocols/onvif/profile-g.ts';
import type { RelayEngine } from '../relay/engine.ts';
import { ISO, cameraInScope } from './common.ts';
import { issuePlaybackTicket, redeemPlaybackTicket } from './ticket.ts';

export interface DevicePlaybackDeps {
  cameras: CameraRepo;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  relay: RelayEngine;
  tokenKey: Buffer;
  ticketTtlSec: number;
  onvifTimeoutMs?: number;
  /** How long a replay may take to list its first segment before the open fails. */
  startTimeoutMs?: number;
}

/** Speeds a replay can be asked for (Scale on PLAY). */
export const DEVICE_SPEEDS = [0.5, 1, 2, 4, 8] as const;

export interface DeviceSpan {
  start: string;
  end: string;
  source: 'device';
}

const FILE = /^(index\.m3u8|seg_\d{5,9}\.ts)$/;
export const replayKey = (cameraId: number, replayId: string) => `replay:${cameraId}:${replayId}`;

/** Why a device cannot play back, in words (coded in api/messages.ts) and as the error the API answers. */
function deviceError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof OnvifError) {
    if (err.kind === 'auth')
      return new HttpError(502, 'device_auth', 'the camera refused the stored user name or password');
    return new HttpError(502, 'device_unreachable', `the camera did not answer about its recordings: ${err.message}`);
  }
  return new HttpError(502, 'device_unreachable', `the camera did not answer about its recordings: ${String(err)}`);
}

const noProfileG = () =>
  new HttpError(
    409,
    'device_no_profile_g',
    'the camera does not offer playback of its own recordings (no ONVIF Profile G)',
  );

export function createDevicePlayback(deps: DevicePlaybackDeps) {
  const { cameras, secrets, clock, log, relay } = deps;
  const nowMs = () => clock.now().getTime();

  /** An ONVIF session with the point's device, its clock learnt, its Profile G services found. */
  async function connect(c: CameraPoint): Promise<{ client: OnvifClient; svc: ProfileGServices; xaddr: string }> {
    if (!c.onvifUrl)
      throw new HttpError(
        409,
        'device_no_onvif',
        'the point has no ONVIF address to ask the camera for its recordings',
      );
    const opened = openCredentials(secrets, c.credentialsSealed);
    const client = createOnvifClient({
      xaddr: c.onvifUrl,
      credentials: opened.ok ? opened.creds : null,
      timeoutMs: deps.onvifTimeoutMs ?? 5000,
    });
    try {
      await client.getSystemDateAndTime();
      const svc = await profileGServices(client);
      if (!svc) throw noProfileG();
      return { client, svc, xaddr: c.onvifUrl };
    } catch (err) {
      throw deviceError(err);
    }
  }

  const cameraIn = (ctx: AuthContext, id: number) => cameraInScope(cameras, ctx, id);

  return {
    /**
     * The device's recorded spans of a point in [from, to) beside the platform's. Never throws for the device:
     * a camera that cannot answer gives `available: false` and its coded reason, so the timeline still shows
     * what the platform has. The point must be in scope (checked by the caller's platform spans first).
     */
    async spans(ctx: AuthContext, cameraId: number, fromMs: number, toMs: number) {
      const c = await cameraIn(ctx, cameraId);
      try {
        const { client, svc } = await connect(c);
        const recs = await findRecordings(client, svc);
        const spans: DeviceSpan[] = [];
        for (const rec of recs.slice(0, 4)) {
          for (const [a, b] of await recordedRanges(client, svc, rec, fromMs, Math.min(toMs, nowMs())))
            spans.push({ start: ISO(a), end: ISO(b), source: 'device' });
        }
        spans.sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
        return { available: true as const, code: null, message: null, spans };
      } catch (err) {
        const e = deviceError(err);
        log.info('device recordings unavailable', { camera: c.id, code: e.code, reason: e.message });
        return { available: false as const, code: e.code, message: e.message, spans: [] as DeviceSpan[] };
      }
    },

    /**
     * Opens a replay of the camera's recording from `fromMs` at `speed`: the relay reads the replay URI through
     * the source proxy, which sends `Require: onvif-replay`, `Range: clock=` (device clock) and `Scale`.
     */
    async open(ctx: AuthContext, ip: string | null, cameraId: number, fromMs: number, speed: number) {
      const c = await cameraIn(ctx, cameraId);
      const { client, svc, xaddr } = await connect(c);
      let uri: string;
      let recordingToken: string;
      try {
        const recs = await findRecordings(client, svc);
        const rec = recs.find(
          (r) => (r.earliestMs === null || r.earliestMs <= fromMs + 60_000) && (r.latestMs ?? Infinity) > fromMs,
        );
        if (!rec) throw new HttpError(404, 'device_no_recording', 'the camera holds no recording in this range');
        recordingToken = rec.token;
        uri = await getReplayUri(client, svc, rec.token, xaddr);
      } catch (err) {
        throw deviceError(err);
      }
      const opened = openCredentials(secrets, c.credentialsSealed);
      const replayId = randomBytes(8).toString('hex');
      const key = replayKey(c.id, replayId);
      await relay.acquire(key, {
        url: uri,
        credentials: opened.ok ? opened.creds : null,
        codec: 'unknown',
        rtspTransport: c.rtspTransport,
        ...(c.rtspTransportSeen ? { preferTransport: c.rtspTransportSeen } : {}),
        rtspHeaders: replayHeaders(fromMs, speed, client.clockOffsetMs),
        fromFirstPacket: true,
      });
      const ready = await relay.waitForPlaylist(key, deps.startTimeoutMs ?? 15_000);
      if (!ready) {
        const reason = relay.status(key)?.reason ?? 'no video';
        await relay.stop(key);
        throw new HttpError(502, 'device_unreachable', `the camera did not answer about its recordings: ${reason}`);
      }
      const { token, exp } = await issuePlaybackTicket(
        deps,
        ctx,
        ip,
        c,
        { kind: 'dev', replayId },
        { source: 'device', from: ISO(fromMs), speed, recording: recordingToken },
      );
      return {
        cameraId: c.id,
        source: 'device' as const,
        from: ISO(fromMs),
        speed,
        playlistUrl: `/recordings/${token}/index.m3u8`,
        expiresAt: new Date(exp * 1000).toISOString(),
      };
    },

    /**
     * A playlist or segment of a device replay: the ticket's session must be the requester's own, its user still
     * allowed to play recordings, the point still the same and in scope; a fetch keeps the replay from idling out.
     */
    async resolveFile(
      session: AuthContext | undefined,
      token: string,
      file: string,
    ): Promise<{ kind: 'playlist'; body: string } | { kind: 'segment'; path: string }> {
      const { grant: g, camera: c } = await redeemPlaybackTicket(deps, 'dev', session, token);
      if (!FILE.test(file)) throw notFound('segment');
      const key = replayKey(c.id, g.replayId);
      const st = relay.status(key);
      if (!st?.dir) throw notFound('replay (it ended; open it again)');
      relay.touch(key);
      const abs = path.join(st.dir, file);
      if (file === 'index.m3u8') {
        try {
          return { kind: 'playlist', body: await readFile(abs, 'utf8') };
        } catch {
          throw notFound('playlist');
        }
      }
      return { kind: 'segment', path: abs };
    },

    /**
     * Ends a replay at once (its player went back to live, or closed) rather than when it idles out: a camera
     * serves only a few replay sessions. Only the session the ticket was issued to may, as for its files.
     */
    async close(session: AuthContext | undefined, token: string): Promise<void> {
      const { grant: g, camera: c } = await redeemPlaybackTicket(deps, 'dev', session, token);
      await relay.stop(replayKey(c.id, g.replayId));
    },
  };
}

export type DevicePlayback = ReturnType<typeof createDevicePlayback>;
