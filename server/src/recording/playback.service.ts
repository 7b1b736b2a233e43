/**
 * 录像回放, the playing side (issue 14): spans and gaps of a point, playback tickets and their HLS VOD
 * playlists, MP4 downloads and the evidence clips as users fetch them. What is recorded and kept (plans, the
 * pass, retention, the quota, cutting clips) is `service.ts`; this service only reads the index. No SQL here
 * (repo.ts), no `req` (routes.ts).
 */
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { Clock } from '../http/logger.ts';
import { ISO, cameraInScope, engineOrUnavailable, recorderKey, type RecordingConfig } from './common.ts';
import type { RecordingEngine } from './engine.ts';
import type { ClipRow, RecordingRepo, SegmentRow } from './repo.ts';
import { issuePlaybackTicket, redeemPlaybackTicket } from './ticket.ts';

export interface PlaybackDeps {
  repo: RecordingRepo;
  cameras: CameraRepo;
  audit: AuditLog;
  clock: Clock;
  config: RecordingConfig;
  engine: RecordingEngine | null;
  tokenKey: Buffer;
  ticketTtlSec: number;
}

export interface Span {
  start: string;
  end: string;
}

/** Consecutive segments closer than this are one span: file times and packet arrival jitter by a few 100 ms. */
const JOIN_MS = 1_500;
const SEGMENT_FILE = /^s(\d{1,15})\.ts$/;
const runOf = (rel: string) => rel.slice(0, rel.lastIndexOf('/'));

const rangeError = (field: 'from' | 'to', message: string) =>
  new HttpError(400, 'validation_failed', `${field}: ${message}`, [{ path: field, message }]);

/** Joins segments into spans and lists the gaps between them (and at the range's ends) inside [from, to). */
export function spansOf(
  segments: ReadonlyArray<Pick<SegmentRow, 'startMs' | 'endMs'>>,
  fromMs: number,
  toMs: number,
): { spans: Span[]; gaps: Span[] } {
  const merged: Array<[number, number]> = [];
  for (const s of segments) {
    const a = Math.max(s.startMs, fromMs);
    const b = Math.min(s.endMs, toMs);
    if (b <= a) continue;
    const last = merged.at(-1);
    if (last && a - last[1] <= JOIN_MS) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  const gaps: Span[] = [];
  let at = fromMs;
  for (const [a, b] of merged) {
    if (a - at > JOIN_MS) gaps.push({ start: ISO(at), end: ISO(a) });
    at = b;
  }
  if (merged.length && toMs - at > JOIN_MS) gaps.push({ start: ISO(at), end: ISO(toMs) });
  return { spans: merged.map(([a, b]) => ({ start: ISO(a), end: ISO(b) })), gaps };
}

/** A clip as the API lists it. */
const clipView = (c: ClipRow) => ({
  id: c.id,
  alertId: c.alertId,
  cameraId: c.cameraId,
  start: ISO(c.startMs),
  end: ISO(c.endMs),
  status: c.status,
  reason: c.reason,
  bytes: c.bytes,
  url: c.status === 'ready' ? `/api/v1/recording/clips/${c.id}.mp4` : null,
});

export function createPlaybackService(deps: PlaybackDeps) {
  const { repo, cameras, audit, clock, config, engine } = deps;
  const nowMs = () => clock.now().getTime();
  const requireEngine = () => engineOrUnavailable(engine, config);

  /** Checks a range: order, emptiness, future, length. */
  function checkRange(fromMs: number, toMs: number, maxMs: number, maxLabel: string): void {
    if (toMs === fromMs) throw rangeError('to', 'must be after from (the range is empty)');
    if (toMs < fromMs) throw rangeError('to', 'must be after from');
    if (fromMs > nowMs()) throw rangeError('from', 'must not be in the future');
    if (toMs > nowMs() + 60_000) throw rangeError('to', 'must not be in the future');
    if (toMs - fromMs > maxMs) throw rangeError('to', `at most ${maxLabel} after from`);
  }

  const maxRangeMs = () => config.maxRangeHours * 3_600_000;
  const cameraIn = (ctx: AuthContext, id: number) => cameraInScope(cameras, ctx, id);

  return {
    /** Recorded spans and gaps of a point in [from, to); a point without recordings has none. */
    async spans(ctx: AuthContext, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, maxRangeMs() * 7, `${config.maxRangeHours * 7} hours`);
      const c = await cameraIn(ctx, cameraId);
      const segs = await repo.segments(ctx.scope, c.id, fromMs, toMs);
      const { spans, gaps } = spansOf(segs, fromMs, toMs);
      const alerts = await repo.alertsOf(ctx.scope, c.id, ISO(fromMs), ISO(toMs));
      return {
        cameraId: c.id,
        from: ISO(fromMs),
        to: ISO(toMs),
        recording: engine?.keys().includes(recorderKey(c.id)) ?? false,
        spans,
        gaps,
        alerts,
      };
    },

    /** The range rules of a playback (order, emptiness, future, length): also for a device replay. */
    checkPlaybackRange(fromMs: number, toMs: number): void {
      checkRange(fromMs, toMs, maxRangeMs(), `${config.maxRangeHours} hours`);
    },

    /** A playback ticket: an HLS VOD playlist of the range, bound to the asking session like live tickets. */
    async openPlayback(ctx: AuthContext, ip: string | null, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, maxRangeMs(), `${config.maxRangeHours} hours`);
      const c = await cameraIn(ctx, cameraId);
      const segs = await repo.segments(ctx.scope, c.id, fromMs, toMs);
      const { token, exp } = await issuePlaybackTicket(
        deps,
        ctx,
        ip,
        c,
        { kind: 'rec', fromMs, toMs },
        { from: ISO(fromMs), to: ISO(toMs) },
      );
      // Where each segment sits on the player's timeline (gaps collapse there), for the timeline to map back.
      let offset = 0;
      const map = segs.map((s) => {
        const m = { startMs: s.startMs, endMs: s.endMs, offsetSec: offset };
        offset += (s.endMs - s.startMs) / 1000;
        return m;
      });
      const first = segs[0];
      return {
        cameraId: c.id,
        from: ISO(fromMs),
        to: ISO(toMs),
        playlistUrl: segs.length ? `/recordings/${token}/index.m3u8` : null,
        /** Seconds into the playlist where `from` is. */
        startOffsetSec: first ? Math.max(0, (fromMs - first.startMs) / 1000) : 0,
        segments: map,
        expiresAt: new Date(exp * 1000).toISOString(),
      };
    },

    /**
     * A playlist or segment request: the ticket's session must be the requester's own (resolved afresh), its
     * user still allowed to play recordings, the point still the same and in the user's scope.
     */
    async resolveFile(
      session: AuthContext | undefined,
      token: string,
      file: string,
    ): Promise<{ kind: 'playlist'; body: string } | { kind: 'segment'; path: string }> {
      const { grant: g, camera: c, session: s } = await redeemPlaybackTicket(deps, 'rec', session, token);
      const eng = requireEngine();
      if (file === 'index.m3u8') {
        const segs = await repo.segments(s.scope, c.id, g.fromMs, g.toMs);
        return { kind: 'playlist', body: vodPlaylist(segs, g.fromMs) };
      }
      const m = SEGMENT_FILE.exec(file);
      const seg = m ? await repo.segment(s.scope, Number(m[1])) : undefined;
      // Only segments of this point inside the granted range.
      if (!seg || seg.cameraId !== c.id || seg.startMs >= g.toMs || seg.endMs <= g.fromMs) throw notFound('segment');
      const abs = eng.resolve(seg.path);
      if (!abs) throw notFound('segment');
      return { kind: 'segment', path: abs };
    },

    /** An MP4 of a range (copy, size-capped), audited; the caller streams it and then calls `discard`. */
    async exportRange(ctx: AuthContext, ip: string | null, cameraId: number, fromMs: number, toMs: number) {
      checkRange(fromMs, toMs, config.maxExportMinutes * 60_000, `${config.maxExportMinutes} minutes`);
      const c = await cameraIn(ctx, cameraId);
      const eng = requireEngine();
      const segs = await repo.segments(ctx.scope, c.id, fromMs, toMs);
      if (!segs.length) throw new HttpError(404, 'no_recording', 'no recording in this range');
      const offset = Math.max(0, (fromMs - segs[0]!.startMs) / 1000);
      const duration = (toMs - Math.max(fromMs, segs[0]!.startMs)) / 1000;
      const r = await eng.exportMp4(
        segs.map((s) => s.path),
        offset,
        duration,
        config.maxExportMb * 1024 * 1024,
      );
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.export',
        targetType: 'camera',
        targetId: c.id,
        outcome: 'ok',
        detail: { from: ISO(fromMs), to: ISO(toMs), bytes: r.bytes, capped: r.capped },
      });
      return { ...r, name: `cam${c.id}-${ISO(fromMs).replace(/[:.]/g, '')}.mp4` };
    },

    discard: (p: string) => engine?.discard(p) ?? Promise.resolve(),

    /** Evidence clips of an alert in scope. */
    async clipsOfAlert(ctx: AuthContext, alertId: number) {
      return (await repo.clipsOfAlert(ctx.scope, alertId)).map(clipView);
    },

    /** Evidence clips a work order in scope holds (its alert's, also once the alert is gone). */
    async clipsOfOrder(ctx: AuthContext, orderId: number) {
      return (await repo.clipsOfOrder(ctx.scope, orderId)).map(clipView);
    },

    /** The file of a ready clip in scope, audited. */
    async clipFile(ctx: AuthContext, ip: string | null, id: number): Promise<{ path: string; name: string }> {
      const clip = await repo.clip(ctx.scope, id);
      if (!clip || clip.status !== 'ready' || !clip.path) throw notFound('clip');
      const abs = requireEngine().resolve(clip.path);
      if (!abs) throw notFound('clip');
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'recording.clip.download',
        targetType: 'alert',
        targetId: clip.alertId,
        outcome: 'ok',
        detail: { clip: clip.id, camera: clip.cameraId },
      });
      return { path: abs, name: `alert-${clip.alertId}-cam${clip.cameraId}.mp4` };
    },
  };
}

/** HLS VOD playlist of indexed segments; a gap (another run, a restart) is a discontinuity. */
export function vodPlaylist(
  segs: ReadonlyArray<Pick<SegmentRow, 'id' | 'startMs' | 'endMs' | 'path'>>,
  fromMs: number,
): string {
  const target = Math.max(1, ...segs.map((s) => Math.ceil((s.endMs - s.startMs) / 1000)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
  ];
  const first = segs[0];
  if (first && fromMs > first.startMs) {
    lines.push(`#EXT-X-START:TIME-OFFSET=${((fromMs - first.startMs) / 1000).toFixed(3)},PRECISE=YES`);
  }
  let prev: Pick<SegmentRow, 'endMs' | 'path'> | undefined;
  for (const s of segs) {
    // Another run (a restart) begins its timestamps anew, however short the gap.
    if (prev && (s.startMs - prev.endMs > JOIN_MS || runOf(s.path) !== runOf(prev.path)))
      lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${ISO(s.startMs)}`);
    lines.push(`#EXTINF:${((s.endMs - s.startMs) / 1000).toFixed(3)},`);
    lines.push(`s${s.id}.ts`);
    prev = s;
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export type PlaybackService = ReturnType<typeof createPlaybackService>;
