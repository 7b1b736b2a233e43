/**
 * The recorded-video player shared by the playback page, its points in sync and a wall tile in playback mode
 * (issue 14): the spans of a point, a ticket (POST /recording/cameras/:id/playback) played through hls.js in a
 * <video>, a seek inside the ticket when it covers the moment, and the recorded time of what is shown — for the
 * platform's recordings (a segment map) and for the camera's own (a replay from a clock time at a speed).
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type HlsType from 'hls.js';
import { request, windowSession } from '../api.ts';
import { describeError } from '../errors.ts';
import { currentLang, useI18n } from '../i18n.tsx';
import { serverText } from '../serverMessages.ts';
import type { TimelineAlert, TimelineSpan } from './Timeline.tsx';

export interface SpansAnswer {
  spans: Array<{ start: string; end: string }>;
  gaps: Array<{ start: string; end: string }>;
  alerts: Array<{ id: number; level: string; at: string; title: string }>;
  /** The camera's own recordings (ONVIF Profile G), or why there are none to show. */
  deviceSpans?: Array<{ start: string; end: string }>;
  device?: { available: boolean; code: string | null; message: string | null } | null;
}

export type Source = 'platform' | 'device';

export interface PlaybackAnswer {
  playlistUrl: string | null;
  startOffsetSec: number;
  segments: Array<{ startMs: number; endMs: number; offsetSec: number }>;
  /** A replay of the camera's own recording: a live-like stream from `from`, at the device's speed. */
  source?: Source;
  speed?: number;
}

/** What a player plays: the answer and the moments it was asked for. */
export interface PlaybackTicket {
  fromMs: number;
  toMs: number;
  answer: PlaybackAnswer;
}

export const SPEEDS = [0.5, 1, 2, 4, 8] as const;
export const DAY = 24 * 3_600_000;
/** One ticket covers this much from the seek point (the server allows recording.maxRangeHours). */
export const TICKET_SPAN = 3_600_000;

async function loadHls() {
  const [{ default: Hls }, { default: workerPath }] = await Promise.all([
    import('hls.js'),
    import('hls.js/dist/hls.worker.js?url'),
  ]);
  return { Hls, workerPath };
}

/** Wall-clock time of a player position, by the segment map the ticket came with. */
export function wallTimeAt(segments: PlaybackAnswer['segments'], t: number): number | null {
  for (const s of segments) {
    const d = (s.endMs - s.startMs) / 1000;
    if (t >= s.offsetSec && t < s.offsetSec + d + 0.05) return s.startMs + (t - s.offsetSec) * 1000;
  }
  return null;
}

/** Player position of a wall-clock time (the next recorded moment when it falls in a gap). */
export function positionOf(segments: PlaybackAnswer['segments'], ms: number): number | null {
  for (const s of segments) {
    if (ms < s.startMs) return s.offsetSec;
    if (ms < s.endMs) return s.offsetSec + (ms - s.startMs) / 1000;
  }
  return null;
}

/** The recorded time shown at a player position: a replay has no segment map and runs at the device's speed. */
export function recordedTimeAt(ticket: PlaybackTicket, t: number): number | null {
  const { answer } = ticket;
  if (answer.source === 'device') return ticket.fromMs + t * 1000 * (answer.speed ?? 1);
  return wallTimeAt(answer.segments, t);
}

/** The player position of a recorded time within a ticket (null when the ticket does not hold it). */
export function positionFor(ticket: PlaybackTicket, ms: number): number | null {
  const { answer } = ticket;
  if (answer.source === 'device') return ms < ticket.fromMs ? null : (ms - ticket.fromMs) / 1000 / (answer.speed ?? 1);
  return positionOf(answer.segments, ms);
}

/** A recording that begins this little after a moment still plays it (a ticket starts at the next recorded second). */
const LATE_START_MS = 10_000;
const covers = (spans: readonly TimelineSpan[], ms: number) =>
  spans.some((s) => s.start <= ms + LATE_START_MS && ms < s.end);

/**
 * Where a point in sync plays a moment from: the source asked when it recorded that moment (or began a few
 * seconds after), else the other one that did, else null (nothing recorded there: the tile says so).
 */
export function sourceAt(
  spans: { platform: readonly TimelineSpan[]; device: readonly TimelineSpan[] },
  ms: number,
  preferred: Source,
): Source | null {
  const order: Source[] = preferred === 'device' ? ['device', 'platform'] : ['platform', 'device'];
  return order.find((s) => covers(s === 'device' ? spans.device : spans.platform, ms)) ?? null;
}

export interface PointSpans {
  spans: TimelineSpan[];
  deviceSpans: TimelineSpan[];
  /** Why the camera's own recordings cannot be shown, in words (undefined: nothing to say). */
  deviceNote: string | undefined;
  alerts: TimelineAlert[];
  /** The source to offer first: the camera's own when only it has recordings. */
  source: Source;
  loaded: boolean;
  error: string | null;
}

const NO_SPANS: PointSpans = {
  spans: [],
  deviceSpans: [],
  deviceNote: undefined,
  alerts: [],
  source: 'platform',
  loaded: false,
  error: null,
};

/** A point's recorded spans (the platform's and the camera's own) and alerts in [from, to). */
export function usePointSpans(cameraId: number, from: number, to: number): PointSpans {
  const { t } = useI18n();
  const [state, setState] = useState<PointSpans>(NO_SPANS);
  useEffect(() => {
    const controller = new AbortController();
    const q = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    request<SpansAnswer>(`/recording/cameras/${cameraId}/spans?${q}`, { signal: controller.signal }).then(
      (r) => {
        const spans = r.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
        const deviceSpans = (r.deviceSpans ?? []).map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
        setState({
          spans,
          deviceSpans,
          deviceNote:
            r.device && !r.device.available
              ? (serverText(currentLang(), {
                  message: r.device.message ?? '',
                  ...(r.device.code ? { code: r.device.code } : {}),
                }) ?? undefined)
              : undefined,
          alerts: r.alerts.map((a) => ({ id: a.id, at: Date.parse(a.at), level: a.level, title: a.title })),
          source: spans.length === 0 && deviceSpans.length > 0 ? 'device' : 'platform',
          loaded: true,
          error: null,
        });
      },
      (err: unknown) =>
        !controller.signal.aborted && setState({ ...NO_SPANS, loaded: true, error: describeError(err, t) }),
    );
    return () => controller.abort();
  }, [cameraId, from, to, t]);
  return state;
}

/**
 * A camera's replay the player no longer shows (back to live, another moment, closed) ends now: the camera
 * serves few replay sessions, and one left to idle out could refuse the next (DELETE /recordings/<ticket>).
 * A platform playback holds nothing to end.
 */
function endReplay(t: PlaybackTicket | null): void {
  const url = t?.answer.source === 'device' ? t.answer.playlistUrl : null;
  const token = url ? /^\/recordings\/([^/]+)\//.exec(url)?.[1] : undefined;
  if (!token) return;
  const headers: Record<string, string> = {};
  const session = windowSession();
  if (session) headers['Authorization'] = `Bearer ${session}`;
  // (A page being closed may not send it: the replay then idles out on the server.)
  void fetch(`/recordings/${token}`, { method: 'DELETE', headers, credentials: 'same-origin' }).catch(() => undefined);
}

/**
 * One <video> playing tickets. `open` asks for a new ticket from a moment and plays it (an older `open` still
 * under way is dropped); `seekWithin` moves inside the current one when it covers the moment (platform
 * recordings; a device replay is a stream from one moment, so a seek there is a new replay).
 */
export function usePlaybackPlayer(video: RefObject<HTMLVideoElement | null>) {
  const hls = useRef<HlsType | null>(null);
  const ticket = useRef<PlaybackTicket | null>(null);
  const generation = useRef(0);

  const stop = useCallback(() => {
    generation.current += 1;
    hls.current?.destroy();
    hls.current = null;
    endReplay(ticket.current);
    ticket.current = null;
  }, []);
  useEffect(() => stop, [stop]);

  const seekWithin = useCallback(
    (ms: number): boolean => {
      const current = ticket.current;
      const el = video.current;
      if (!current || !el || current.answer.source === 'device' || ms < current.fromMs || ms >= current.toMs)
        return false;
      const pos = positionOf(current.answer.segments, ms);
      if (pos === null) return false;
      el.currentTime = pos;
      void el.play().catch(() => undefined);
      return true;
    },
    [video],
  );

  /**
   * A new ticket from `ms` for `cameraId`, played at `speed` (the camera replays at that speed itself). Resolves
   * to the ticket, or null when another `open` or `stop` came first. Rejects when the server refuses.
   */
  const open = useCallback(
    async (cameraId: number, ms: number, source: Source, speed: number): Promise<PlaybackTicket | null> => {
      const mine = ++generation.current;
      const toMs = Math.min(Date.now(), ms + TICKET_SPAN);
      const answer = await request<PlaybackAnswer>(`/recording/cameras/${cameraId}/playback`, {
        method: 'POST',
        json: {
          from: new Date(ms).toISOString(),
          to: new Date(toMs).toISOString(),
          ...(source === 'device' ? { source, speed } : {}),
        },
      });
      if (mine !== generation.current) {
        endReplay({ fromMs: ms, toMs, answer });
        return null;
      }
      hls.current?.destroy();
      hls.current = null;
      endReplay(ticket.current);
      const next = { fromMs: ms, toMs, answer };
      ticket.current = next;
      const el = video.current;
      if (!answer.playlistUrl || !el) return next;
      const { Hls, workerPath } = await loadHls();
      if (mine !== generation.current) return null;
      const player = new Hls({
        ...(workerPath ? { workerPath } : {}),
        ...(answer.source === 'device' ? {} : { startPosition: answer.startOffsetSec }),
        xhrSetup: (xhr, url) => {
          xhr.open('GET', url, true);
          const session = windowSession();
          if (session) xhr.setRequestHeader('Authorization', `Bearer ${session}`);
        },
      });
      hls.current = player;
      player.loadSource(answer.playlistUrl);
      player.attachMedia(el);
      el.playbackRate = answer.source === 'device' ? 1 : speed;
      void el.play().catch(() => undefined);
      return next;
    },
    [video],
  );

  /**
   * A new speed. A platform recording plays faster in the browser (true); a camera's replay cannot: the camera
   * replays at the speed asked, so the caller asks for a new replay from the moment shown (false).
   */
  const applySpeed = useCallback(
    (speed: number): boolean => {
      if (ticket.current?.answer.source === 'device') return false;
      if (video.current) video.current.playbackRate = speed;
      return true;
    },
    [video],
  );

  /** The recorded time of the picture shown (null before a ticket plays, or in a gap of the segment map). */
  const shownTime = useCallback((): number | null => {
    const el = video.current;
    return el && ticket.current ? recordedTimeAt(ticket.current, el.currentTime) : null;
  }, [video]);

  return { ticket, open, seekWithin, stop, shownTime, applySpeed };
}
