import type { StreamStateEvent, StreamTicket } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import { can, type AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { CREDENTIALS_UNREADABLE, openCredentials, type Credentials } from '../crypto/credentials.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Store } from '../db/store.ts';
import type { EventBus } from '../events.ts';
import { HttpError, conflict, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { WHOLE_REGISTRY, inScope, pathRange } from '../org/scope.ts';
import { rtspProbe } from '../protocols/rtsp-probe.ts';
import type { CameraControl } from './control.ts';
import type { RelayEngine, RelayEngineStatus, RelaySourceInput } from './engine.ts';
import type { LiveFeed } from './engine.ts';
import { cameraRef, sameRef, sessionRef, signGrant, verifyGrant, type StreamGrant } from './tokens.ts';

export interface RelayDeps {
  store: Store;
  cameras: CameraRepo;
  secrets: SecretBox;
  audit: AuditLog;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  engine: RelayEngine;
  control: CameraControl;
  tokenKey: Buffer;
  ticketTtlSec: number;
  startTimeoutMs: number;
  /** Ask the camera for an IDR when its stream's PLAY succeeds (issue 15); default false. */
  keyframeOnStart?: boolean;
  /**
   * With `keyframeOnStart`: ask again this long after the first answer (the relay's segment length), so the
   * first HLS segment closes then instead of at the camera's next scheduled keyframe, a whole GOP later
   * (issue 12: video back within 5 s on a camera with a 4 s GOP).
   */
  secondKeyframeAfterMs?: number;
  /** A viewing session ends this long after its last playlist or segment request. */
  viewIdleMs: number;
  /** Only these schemes may reach ffmpeg; checked again by the media plane. */
  validateUrl: (url: string) => { ok: true; url: string } | { ok: false; reason: string };
  /** For a point fed by an RTMP push: whether a device is pushing now. null for every other point. */
  pushState?: (c: CameraPoint) => { live: boolean; reason: string | null } | null;
}

export type Quality = 'main' | 'sub';

/** A ticket resolved for the live socket (issue 15): which stream, whose camera, and its feed. */
export interface LiveGrant {
  key: string;
  cameraId: number;
  quality: Quality;
  cameraRef: string;
  feed: LiveFeed;
}

/** 观看记录 — one person watching one camera, start to end. */
export interface ViewSession {
  id: number;
  userId: number;
  username: string | null;
  cameraId: number;
  cameraName: string | null;
  quality: Quality;
  ip: string | null;
  startedAt: string;
  lastSeenAt: string;
  /** Null while the session is open. */
  endedAt: string | null;
}
const FILE = /^(index\.m3u8|seg_\d{5,9}\.ts)$/;

/** What a running stream was started from: a change of any of these restarts it (issue 12). */
const sourceSignature = (uri: string | null, c: Pick<CameraPoint, 'credentialsSealed' | 'rtspTransport'>) =>
  `${uri ?? ''}\n${c.credentialsSealed ?? ''}\n${c.rtspTransport}`;

export function createRelayService(deps: RelayDeps) {
  const { store, cameras, secrets, audit, bus, clock, log, engine, control } = deps;
  const db = store;
  const codecs = new Map<string, { codec: 'h264' | 'h265' | 'unknown'; at: number }>();
  const snapshots = new Map<number, { at: number; jpeg: Buffer }>();
  /** key → camera, for routing state events to the right rooms; `source` is what the stream was started from. */
  type StreamEntry = { cameraId: number; orgPath: string; quality: Quality; source: string };
  const streams = new Map<string, StreamEntry>();
  const nowIso = () => clock.now().toISOString();
  /** Shutdown is a state (issue 12): once it begins nothing new starts, and opens still pending answer 503. */
  let closing = false;
  const shuttingDown = () => new HttpError(503, 'shutting_down', 'the server is shutting down; try again in a moment');
  const refuseIfClosing = () => {
    if (closing) throw shuttingDown();
  };
  /** Rejects the moment shutdown begins: an open waiting on a camera answers at once, not after its probe. */
  let closed: (err: HttpError) => void = () => undefined;
  const closingNow = new Promise<never>((_, reject) => (closed = reject));
  closingNow.catch(() => undefined);
  const unlessClosing = <T>(p: Promise<T>): Promise<T> => Promise.race([p, closingNow]);
  const uriOf = (c: Pick<CameraPoint, 'mainStreamUri' | 'subStreamUri'>, quality: Quality) =>
    quality === 'main' ? (c.mainStreamUri ?? c.subStreamUri) : (c.subStreamUri ?? c.mainStreamUri);

  const viewers = async (cameraId: number, quality: Quality) =>
    (
      await db.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM view_sessions WHERE ended_at IS NULL AND camera_id = ? AND quality = ?',
        [cameraId, quality],
      )
    )?.n ?? 0;

  const endSessions = (cameraId: number, quality: Quality) =>
    db.run(
      'UPDATE view_sessions SET ended_at = last_seen_at WHERE ended_at IS NULL AND camera_id = ? AND quality = ?',
      [cameraId, quality],
    );
  /** Bookkeeping a synchronous caller starts and does not wait for: a failure is logged, never unhandled. */
  const inBackground = (what: string, work: Promise<unknown>) =>
    void work.catch((err: unknown) => log.warn(`relay: ${what} failed`, { err: String(err) }));

  // One stream's state events go out in the order they happened, each with the viewer count read after it.
  /** A stream's state as pushed (`stream:state`) and listed: the media plane's status and its viewers. */
  const stateEvent = async (
    st: { cameraId: number; quality: Quality },
    s: RelayEngineStatus,
  ): Promise<StreamStateEvent> => ({
    cameraId: st.cameraId,
    quality: st.quality,
    state: s.state,
    reason: s.reason,
    viewers: await viewers(st.cameraId, st.quality),
    bitrateKbps: s.bitrateKbps,
    fps: s.fps,
    restarts: s.restarts,
    ...(s.retryInMs !== null ? { retryInMs: s.retryInMs } : {}),
  });
  const stateChains = new Map<string, Promise<void>>();
  const offState = engine.onState((key, s) => {
    const st = streams.get(key);
    if (!st) return;
    if (s.state === 'stopped') streams.delete(key);
    const next = (stateChains.get(key) ?? Promise.resolve())
      .then(async () => {
        // A stream in error shows nothing, so nobody watches it (issue 12: `viewers: 1` on a stream in error).
        if (s.state === 'error' || s.state === 'stopped') await endSessions(st.cameraId, st.quality);
        bus.emit('stream.state', { orgPath: st.orgPath, event: await stateEvent(st, s) });
      })
      .catch((err: unknown) => log.warn('relay: stream state not sent', { key, err: String(err) }));
    stateChains.set(key, next);
    void next.finally(() => {
      if (stateChains.get(key) === next) stateChains.delete(key);
    });
  });

  // A device that pushes again may push another codec.
  const offPush = bus.on('ingest.publish', (e) => {
    if (!e.live) return;
    inBackground(
      'reading a pushing point',
      cameras.byId(WHOLE_REGISTRY, e.cameraId).then((c) => {
        for (const uri of [c?.mainStreamUri, c?.subStreamUri]) if (uri) codecs.delete(uri);
      }),
    );
  });

  // Viewing sessions end after a quiet spell; the audit keeps start and end.
  const sweeper = setInterval(
    () => {
      const cutoff = new Date(clock.now().getTime() - deps.viewIdleMs).toISOString();
      inBackground(
        'ending idle views',
        db.run('UPDATE view_sessions SET ended_at = last_seen_at WHERE ended_at IS NULL AND last_seen_at < ?', [
          cutoff,
        ]),
      );
    },
    Math.min(15_000, deps.viewIdleMs),
  );
  sweeper.unref();

  async function codecOf(c: CameraPoint, uri: string, creds: Credentials | null) {
    const cached = codecs.get(uri);
    if (cached && clock.now().getTime() - cached.at < 10 * 60_000) return cached.codec;
    if (!uri.startsWith('rtsp://')) {
      const codec = await engine.probeCodec(uri, creds).catch(() => 'unknown' as const);
      codecs.set(uri, { codec, at: clock.now().getTime() });
      return codec;
    }
    const r = await rtspProbe(uri, { ...(creds ?? {}), timeoutMs: 3000, wantVideo: false });
    if (!r.ok) throw new HttpError(502, 'camera_unreachable', `camera ${c.id}: ${r.reason}`);
    const codec = r.codec === 'H264' ? 'h264' : r.codec === 'H265' || r.codec === 'HEVC' ? 'h265' : 'unknown';
    codecs.set(uri, { codec, at: clock.now().getTime() });
    return codec;
  }

  async function startSession(ctx: AuthContext, ip: string | null, cameraId: number, quality: Quality) {
    const t = nowIso();
    const open = await db.get<{ id: number }>(
      'SELECT id FROM view_sessions WHERE ended_at IS NULL AND user_id = ? AND camera_id = ? AND quality = ?',
      [ctx.user.id, cameraId, quality],
    );
    if (open) {
      await db.run('UPDATE view_sessions SET last_seen_at = ? WHERE id = ?', [t, open.id]);
      return;
    }
    await db.run(
      'INSERT INTO view_sessions (user_id, camera_id, quality, ip, started_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      [ctx.user.id, cameraId, quality, ip, t, t],
    );
    await audit.record({
      actor: actorOf(ctx, ip),
      action: 'stream.view',
      targetType: 'camera',
      targetId: cameraId,
      outcome: 'ok',
      detail: { quality },
    });
  }

  const lastTouch = new Map<string, number>();
  /**
   * The requesting session's user watched: the audit names who fetched, which the ticket check made the issuer.
   * Not while the stream is in error: a player still asking for its playlist watches nothing (issue 12).
   */
  function touchSession(userId: number, cameraId: number, quality: Quality) {
    if (engine.status(`${cameraId}:${quality}`)?.state === 'error') return;
    const k = `${userId}:${cameraId}:${quality}`;
    const now = clock.now().getTime();
    if (now - (lastTouch.get(k) ?? 0) < 5000) return;
    lastTouch.set(k, now);
    if (lastTouch.size > 5000) lastTouch.delete(lastTouch.keys().next().value!);
    const t = new Date(now).toISOString();
    inBackground(
      'viewing audit',
      (async () => {
        const { changes } = await db.run(
          'UPDATE view_sessions SET last_seen_at = ? WHERE ended_at IS NULL AND user_id = ? AND camera_id = ? AND quality = ?',
          [t, userId, cameraId, quality],
        );
        if (!changes)
          await db.run(
            'INSERT INTO view_sessions (user_id, camera_id, quality, ip, started_at, last_seen_at) VALUES (?, ?, ?, NULL, ?, ?)',
            [userId, cameraId, quality, t, t],
          );
      })(),
    );
  }

  /**
   * A deleted point's relays stop at once and leave the list (issue 11: a
   * watched point's relay outlived its delete, and a later point given the
   * same id showed the deleted camera's video). Its tickets die with it: each
   * request re-reads the point and compares its `cameraRef`.
   */
  function stopCamera(
    c: Pick<CameraPoint, 'id' | 'orgPath'>,
    reason: string,
    qualities: readonly Quality[] = ['main', 'sub'],
  ): Promise<void> {
    const stops: Promise<void>[] = [];
    for (const quality of qualities) {
      const key = `${c.id}:${quality}`;
      const st = streams.get(key);
      const s = engine.status(key);
      // Out of the list before the process is gone, so no listing or state routing sees a dead point.
      streams.delete(key);
      if (!st && !s) continue;
      inBackground('ending views', endSessions(c.id, quality));
      if (st)
        bus.emit('stream.state', {
          orgPath: st.orgPath,
          event: {
            cameraId: c.id,
            quality,
            state: 'stopped',
            reason,
            viewers: 0,
            bitrateKbps: null,
            fps: null,
            restarts: s?.restarts ?? 0,
          },
        });
      stops.push(engine.stop(key).catch((err: unknown) => log.warn('relay stop failed', { key, err: String(err) })));
    }
    snapshots.delete(c.id);
    for (const k of lastTouch.keys()) if (k.split(':')[1] === String(c.id)) lastTouch.delete(k);
    return Promise.all(stops).then(() => undefined);
  }

  /** What the media plane is given for a point: the address, its credentials apart, the transport. */
  const inputOf = (
    c: CameraPoint,
    uri: string,
    creds: Credentials | null,
    codec: RelaySourceInput['codec'],
  ): RelaySourceInput => ({
    url: uri,
    credentials: creds,
    codec,
    rtspTransport: c.rtspTransport,
    ...(c.rtspTransportSeen ? { preferTransport: c.rtspTransportSeen } : {}),
  });

  /**
   * The relay follows the registry (issue 12: a watched point kept showing its old camera 38 s after its
   * address changed). A new address, password or transport restarts a running stream at once, in place, so
   * its viewers see the new picture without asking; an address removed stops it.
   */
  async function follow(c: CameraPoint): Promise<void> {
    for (const quality of ['main', 'sub'] as const) {
      const key = `${c.id}:${quality}`;
      const st = streams.get(key);
      if (!st) continue;
      // A point moved to another unit: its stream states go to the new unit's rooms from now on.
      st.orgPath = c.orgPath;
      const uri = uriOf(c, quality);
      const source = sourceSignature(uri, c);
      const status = engine.status(key);
      if (source === st.source || !status || status.state === 'stopped') continue;
      st.source = source;
      const opened = openCredentials(secrets, c.credentialsSealed);
      const checked = uri ? deps.validateUrl(uri) : null;
      if (!uri || !checked?.ok || !opened.ok) {
        const why = !uri
          ? 'stream address removed'
          : !opened.ok
            ? CREDENTIALS_UNREADABLE
            : `stream address refused: ${checked && !checked.ok ? checked.reason : ''}`;
        await stopCamera(c, why, [quality]);
        continue;
      }
      // A new address may carry another codec; one that does not answer is still tried (the relay says why).
      const codec = await codecOf(c, uri, opened.creds).catch(() => 'unknown' as const);
      if (closing || streams.get(key) !== st || st.source !== source) continue;
      log.info('point changed while watched: restarting its stream', { key });
      await engine
        .acquire(key, inputOf(c, uri, opened.creds, codec))
        .catch((err: unknown) => log.warn('relay restart after a registry change failed', { key, err: String(err) }));
    }
  }

  const offCamera = bus.on('camera.changed', (e) => {
    if (e.kind === 'deleted') {
      void stopCamera(e.camera, 'camera point deleted');
      for (const uri of [e.camera.mainStreamUri, e.camera.subStreamUri]) if (uri) codecs.delete(uri);
    } else if (e.kind === 'updated') {
      void follow(e.camera).catch((err: unknown) => log.warn('relay follow failed', { err: String(err) }));
    }
  });

  // A health check saw the camera's video: a relay waiting to retry tries now (issue 12: back within 5 s).
  const offSeen = bus.on('camera.seen', (e) => {
    for (const quality of ['main', 'sub'] as const) {
      if (engine.retryNow(`${e.id}:${quality}`)) log.info('camera seen again: relay retries now', { camera: e.id });
    }
  });

  // A stream's PLAY succeeded: ask the camera for a keyframe now, so the first picture comes at once (issue 15).
  const offPlaying =
    deps.keyframeOnStart && engine.onSourcePlaying
      ? engine.onSourcePlaying((key) => {
          const st = streams.get(key);
          if (!st) return;
          void cameras
            .byId(WHOLE_REGISTRY, st.cameraId)
            .then((c) => {
              if (c && !closing) askKeyframes(key, st, c);
            })
            .catch((err: unknown) => log.debug('keyframe request: point unreadable', { key, err: String(err) }));
        })
      : () => undefined;

  function askKeyframes(key: string, st: StreamEntry, c: CameraPoint): void {
    const ask = (again: boolean) =>
      control.syncPoint(c, st.quality).then(
        (asked) => {
          log.debug('keyframe asked of the camera', { key, asked, again });
          const after = deps.secondKeyframeAfterMs ?? 0;
          if (asked && !again && after > 0)
            setTimeout(() => {
              if (!closing && streams.get(key) === st) void ask(true);
            }, after).unref();
        },
        (err: unknown) => log.debug('camera refused a keyframe request', { key, err: String(err) }),
      );
    void ask(false);
  }

  // The transport that delivered video is remembered on the point ('auto' tries it first next time).
  const offTransport = engine.onTransport((key, transport) => {
    const st = streams.get(key);
    if (!st) return;
    void (async () => {
      const c = await cameras.byId(WHOLE_REGISTRY, st.cameraId);
      if (c && c.rtspTransportSeen !== transport) await cameras.setTransportSeen(c.id, transport);
    })().catch((err: unknown) => log.warn('relay: remembering the transport failed', { key, err: String(err) }));
  });

  /**
   * Resolves true once the stream runs — ffmpeg wrote its live fMP4 init segment, or an HLS segment made it
   * live — and false when it stops first, or after `timeoutMs`. What `wait: 'running'` waits for (issue 12:
   * that open answered 200 and counted a viewer while the stream was still starting, then failed). A failed
   * attempt does not end the wait: a watched stream is retried within 2 s, and a first attempt can fail for
   * want of a keyframe (no picture size yet) on a camera with a long GOP; what the state is when the wait ends
   * decides the answer.
   */
  function waitUntilRunning(key: string, timeoutMs: number): Promise<boolean> {
    const now = engine.status(key)?.state;
    if (now === undefined || now === 'stopped') return Promise.resolve(false);
    if (now === 'live' || now === 'reconnecting') return Promise.resolve(true);
    const feed = engine.live?.(key);
    if (!feed) return engine.waitForPlaylist(key, timeoutMs);
    return new Promise<boolean>((resolve) => {
      let done = false;
      /** An attempt failed during the wait: the init then may be the failed process's, so only 'live' counts. */
      let failed = now === 'error';
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const off = engine.onState((k, s) => {
        if (k !== key) return;
        if (s.state === 'live') finish(true);
        else if (s.state === 'stopped') finish(false);
        else if (s.state === 'error' || s.state === 'reconnecting') failed = true;
      });
      void feed.waitForInit(timeoutMs).then((ok) => {
        if (ok && !failed) finish(true);
      });
    });
  }

  /** The point as it is now, if it is still the point `ref` names (an id never names two cameras here). */
  async function sameCamera(
    scope: AuthContext['scope'],
    cameraId: number,
    ref: string,
  ): Promise<CameraPoint | undefined> {
    const c = await cameras.byId(scope, cameraId);
    return c && sameRef(cameraRef(deps.tokenKey, c), ref) ? c : undefined;
  }

  async function capture(c: CameraPoint): Promise<Buffer> {
    const cached = snapshots.get(c.id);
    if (cached && clock.now().getTime() - cached.at < 2000) return cached.jpeg;
    const live = (['sub', 'main'] as const).find((q) => engine.status(`${c.id}:${q}`)?.state === 'live');
    const jpeg = live
      ? await engine.snapshot(`${c.id}:${live}`).catch(() => control.onvifSnapshot(c))
      : await control.onvifSnapshot(c);
    snapshots.set(c.id, { at: clock.now().getTime(), jpeg });
    if (snapshots.size > 500) snapshots.delete(snapshots.keys().next().value!);
    return jpeg;
  }

  /**
   * The ticket is only half: `session` is the requester's own session, resolved afresh for this request
   * (cookie or bearer), and must be the one the ticket was issued to, its user still allowed to watch a camera
   * that still exists, is the same camera, and lies in the user's scope. So a copied URL plays for nobody
   * else, and a logout, expiry, disabled user, moved or deleted point ends playback at the next request.
   */
  async function checkTicket(
    session: AuthContext | undefined,
    token: string,
  ): Promise<{ key: string; grant: StreamGrant }> {
    const check = verifyGrant(deps.tokenKey, token, Math.floor(clock.now().getTime() / 1000));
    if (!check.ok) throw new HttpError(401, `token_${check.reason}`, `stream token ${check.reason}; request a new one`);
    const g = check.grant;
    if (!session)
      throw new HttpError(401, 'session_required', 'a stream plays only for the signed-in session that asked for it');
    if (session.user.id !== g.userId || !sameRef(sessionRef(deps.tokenKey, session.tokenHash), g.sessionRef)) {
      throw new HttpError(403, 'ticket_not_yours', 'this stream ticket was issued to another session');
    }
    if (!can(session.user.role, 'camera.read'))
      throw new HttpError(403, 'forbidden', 'your role may not watch cameras');
    // Out of scope answers like missing, as everywhere in the registry.
    if (!(await sameCamera(session.scope, g.cameraId, g.cameraRef))) throw notFound('camera point');
    return { key: `${g.cameraId}:${g.quality}`, grant: g };
  }

  return {
    /**
     * `wait: 'running'` (the live socket's tiles, issue 15) answers as soon as the relay runs — its first output,
     * the live fMP4 init segment — instead of after its first HLS segment: the socket itself waits for the first
     * keyframe, ~1 s sooner. Either way an open whose stream fails first answers 502 and counts no viewer.
     */
    async open(
      ctx: AuthContext,
      ip: string | null,
      cameraId: number,
      quality: Quality,
      wait: 'playlist' | 'running' = 'playlist',
    ): Promise<StreamTicket> {
      refuseIfClosing();
      const c = await cameras.byId(ctx.scope, cameraId);
      if (!c) throw notFound('camera point');
      const uri = uriOf(c, quality);
      if (!uri) throw conflict('camera: no stream address registered', [{ path: 'mainStreamUri', message: 'missing' }]);
      const opened = openCredentials(secrets, c.credentialsSealed);
      if (!opened.ok)
        throw new HttpError(409, 'credentials_unreadable', `credentials: ${CREDENTIALS_UNREADABLE}`, [
          { path: 'credentials', message: CREDENTIALS_UNREADABLE },
        ]);
      const creds = opened.creds;
      const checked = deps.validateUrl(uri);
      if (!checked.ok)
        throw new HttpError(422, 'bad_stream_uri', `stream address refused: ${checked.reason}`, [
          { path: quality === 'main' ? 'mainStreamUri' : 'subStreamUri', message: checked.reason },
        ]);
      const key = `${c.id}:${quality}`;
      if (!engine.status(key) || engine.status(key)?.state === 'stopped') {
        // Nobody pushing: say so now rather than let the probe and ffmpeg wait on an empty stream.
        const push = deps.pushState?.(c);
        if (push && !push.live) throw new HttpError(502, 'camera_unreachable', `camera ${c.id}: ${push.reason}`);
        // Its ONVIF session is made while RTSP sets up, so the keyframe request follows PLAY at once.
        if (deps.keyframeOnStart) control.prepare(c);
        const codec = await unlessClosing(codecOf(c, uri, creds));
        // The probe may end after shutdown began: it must not start an ffmpeg then (issue 12).
        refuseIfClosing();
        streams.set(key, { cameraId: c.id, orgPath: c.orgPath, quality, source: sourceSignature(uri, c) });
        try {
          await engine.acquire(key, inputOf(c, uri, creds, codec));
        } catch (err) {
          streams.delete(key);
          refuseIfClosing();
          if (err instanceof HttpError) throw err;
          throw new HttpError(503, 'stream_refused', `stream could not start: ${(err as Error).message}`);
        }
      }
      engine.touch(key);
      // Until it runs, fails or the start timeout passes (then it answers `starting`): the state below decides.
      if (wait === 'playlist') await unlessClosing(engine.waitForPlaylist(key, deps.startTimeoutMs));
      else {
        // A process may write its init and then fail: in error with time left, wait on for 'live'.
        const deadline = performance.now() + deps.startTimeoutMs;
        do await unlessClosing(waitUntilRunning(key, deadline - performance.now()));
        while (engine.status(key)?.state === 'error' && deadline - performance.now() > 50 && !closing);
      }
      refuseIfClosing();
      const ref = cameraRef(deps.tokenKey, c);
      if (!(await sameCamera(WHOLE_REGISTRY, c.id, ref))) {
        // Deleted while its relay started: the delete's stop may have come before the start.
        await stopCamera(c, 'camera point deleted');
        throw notFound('camera point');
      }
      const st = engine.status(key);
      // A viewer counts once the stream runs (issue 12: a failed open counted one on a stream in error); one
      // that failed after its first output, before this answer, counts none either.
      if (!st || st.state === 'error' || st.state === 'stopped') {
        throw new HttpError(502, 'stream_failed', `stream failed: ${st?.reason ?? 'the stream stopped'}`);
      }
      await startSession(ctx, ip, c.id, quality);
      const exp = Math.floor(clock.now().getTime() / 1000) + deps.ticketTtlSec;
      const token = signGrant(deps.tokenKey, {
        userId: ctx.user.id,
        cameraId: c.id,
        quality,
        exp,
        sessionRef: sessionRef(deps.tokenKey, ctx.tokenHash),
        cameraRef: ref,
      });
      return {
        cameraId: c.id,
        quality,
        playlistUrl: `/streams/${token}/index.m3u8`,
        expiresAt: new Date(exp * 1000).toISOString(),
        state: st?.state ?? 'starting',
      };
    },

    /**
     * Resolves a playlist or segment request to a file, or says why not. The
     * ticket is only half: `session` is the requester's own session, resolved
     * afresh for this request (cookie or bearer), and must be the one the
     * ticket was issued to, its user still allowed to watch a camera that
     * still exists, is the same camera, and lies in the user's scope. So a
     * copied URL plays for nobody else, and a logout, expiry, disabled user,
     * moved or deleted point ends playback at the next request.
     */
    async resolveFile(
      session: AuthContext | undefined,
      token: string,
      file: string,
    ): Promise<{ path: string; kind: 'playlist' | 'segment' }> {
      const { key, grant: g } = await checkTicket(session, token);
      if (!FILE.test(file)) throw notFound('stream file');
      const st = engine.status(key);
      if (!st || st.state === 'stopped') throw notFound('stream (it stopped; request a new ticket)');
      engine.touch(key);
      touchSession(session!.user.id, g.cameraId, g.quality);
      return { path: `${st.dir}/${file}`, kind: file.endsWith('.m3u8') ? 'playlist' : 'segment' };
    },

    /**
     * The low-latency live path (issue 15): the same ticket, checked exactly as for a playlist (this session,
     * this user still allowed, the same camera still in scope), resolved to the stream's live fMP4 feed.
     * 409 `live_unavailable` when the stream runs without one (the client then plays HLS).
     */
    async resolveLive(session: AuthContext | undefined, token: string): Promise<LiveGrant> {
      const { key, grant } = await checkTicket(session, token);
      const st = engine.status(key);
      if (!st || st.state === 'stopped') throw notFound('stream (it stopped; request a new ticket)');
      const feed = engine.live?.(key);
      if (!feed) throw new HttpError(409, 'live_unavailable', 'no live fMP4 for this stream; play HLS');
      engine.touch(key);
      touchSession(session!.user.id, grant.cameraId, grant.quality);
      return { key, cameraId: grant.cameraId, quality: grant.quality, cameraRef: grant.cameraRef, feed };
    },

    /**
     * A live subscription is still allowed (checked every few seconds while it plays, as HLS checks every
     * request): the session's user may still watch, the camera is still the same and in scope, the stream
     * runs. Keeps the stream from idling out and the viewing audit open.
     */
    async touchLive(session: AuthContext, live: LiveGrant): Promise<boolean> {
      if (!can(session.user.role, 'camera.read')) return false;
      if (!(await sameCamera(session.scope, live.cameraId, live.cameraRef))) return false;
      const st = engine.status(live.key);
      if (!st || st.state === 'stopped' || engine.live?.(live.key) !== live.feed) return false;
      engine.touch(live.key);
      touchSession(session.user.id, live.cameraId, live.quality);
      return true;
    },

    /** A JPEG of the camera: a frame of its live stream if one runs, else its ONVIF snapshot; cached 2 s. */
    capture,

    async snapshot(ctx: AuthContext, ip: string | null, cameraId: number): Promise<Buffer> {
      const c = await cameras.byId(ctx.scope, cameraId);
      if (!c) throw notFound('camera point');
      const jpeg = await capture(c);
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'camera.snapshot',
        targetType: 'camera',
        targetId: c.id,
        outcome: 'ok',
      });
      return jpeg;
    },

    /** Viewing sessions, newest first: who watched which camera, from where, from when to when. */
    /**
     * Who watched what (the viewing report), newest first. `path`: only views
     * of cameras inside that org subtree (a township admin sees who watched its
     * own cameras); null for an admin at the root, who also sees views of
     * points deleted since.
     */
    async viewSessions(opts: {
      beforeId?: number;
      limit: number;
      cameraId?: number;
      path: string | null;
      username?: string;
      from?: string;
      to?: string;
    }): Promise<ViewSession[]> {
      const clauses = ['v.id < ?'];
      const params: (number | string)[] = [opts.beforeId ?? Number.MAX_SAFE_INTEGER];
      if (opts.path !== null) {
        const [lo, hi] = pathRange(opts.path);
        clauses.push('c.org_path >= ? AND c.org_path < ?');
        params.push(lo, hi);
      }
      if (opts.cameraId !== undefined) {
        clauses.push('v.camera_id = ?');
        params.push(opts.cameraId);
      }
      if (opts.username !== undefined) {
        clauses.push('u.username = ?');
        params.push(opts.username);
      }
      if (opts.from !== undefined) {
        clauses.push('v.last_seen_at >= ?');
        params.push(opts.from);
      }
      if (opts.to !== undefined) {
        clauses.push('v.started_at < ?');
        params.push(opts.to);
      }
      return await db.all<ViewSession>(
        `SELECT v.id, v.user_id AS "userId", u.username, v.camera_id AS "cameraId", c.name AS "cameraName", v.quality, v.ip,
                v.started_at AS "startedAt", v.last_seen_at AS "lastSeenAt", v.ended_at AS "endedAt"
         FROM view_sessions v LEFT JOIN users u ON u.id = v.user_id LEFT JOIN camera_points c ON c.id = v.camera_id
         WHERE ${clauses.join(' AND ')} ORDER BY v.id DESC LIMIT ?`,
        [...params, opts.limit],
      );
    },

    async list(ctx: AuthContext): Promise<StreamStateEvent[]> {
      const out: StreamStateEvent[] = [];
      for (const [key, st] of streams) {
        if (!inScope(ctx.scope, st.orgPath)) continue;
        const s = engine.status(key);
        if (!s) continue;
        out.push(await stateEvent(st, s));
      }
      return out;
    },

    async close() {
      closing = true;
      closed(shuttingDown());
      clearInterval(sweeper);
      offState();
      offPush();
      offCamera();
      offSeen();
      offTransport();
      offPlaying();
      await engine.close();
      await Promise.all(stateChains.values());
      await db.run('UPDATE view_sessions SET ended_at = last_seen_at WHERE ended_at IS NULL');
      log.debug('relay closed');
    },
  };
}

export type RelayService = ReturnType<typeof createRelayService>;
