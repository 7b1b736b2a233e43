/**
 * 录像 on the camera (ONVIF Profile G, issue 14): each simulated camera "has recorded" its main stream for the
 * last hours, with deliberate gaps, the way an SD card or an NVR channel holds them. Nothing is stored: the
 * recording is a function of the clock (what was on the camera's timeline at that moment is its clip), so
 * the search service (tse), the recording service (trc), the replay service (trp) and RTSP replay
 * (`Range: clock=`, `Scale`) all answer from the same ranges here.
 *
 * Times are on the DEVICE clock (real time + the camera's clock offset), as a real camera reports them.
 */
import { randomBytes } from 'node:crypto';
import { esc } from './xml.ts';

/** What a camera holds in its own storage (spec `recording`): the last `hours`, minus the gaps. */
export interface SimRecordingSpec {
  /** How far back the recording reaches from the simulator's start (default 24 h). */
  hours?: number;
  /** Gaps: `agoSec` before the simulator's start, `lengthSec` long (default: 3 h ago 15 min, 50 min ago 5 min). */
  gaps?: ReadonlyArray<{ agoSec: number; lengthSec: number }>;
}

export const DEFAULT_GAPS: ReadonlyArray<{ agoSec: number; lengthSec: number }> = [
  { agoSec: 3 * 3600, lengthSec: 15 * 60 },
  { agoSec: 50 * 60, lengthSec: 5 * 60 },
];

export const RECORDING_TOKEN = 'Recording_1';
export const TRACK_TOKEN = 'VideoTrack_1';
export const REPLAY_PATH = '/Streaming/tracks/101';

/** The recorded ranges [start, end) of one camera, device clock, oldest first; the last one runs on to now. */
export class SimRecording {
  readonly #ranges: Array<[number, number]>;

  /** `anchorMs`: the simulator's start on the device clock. */
  constructor(spec: SimRecordingSpec, anchorMs: number) {
    const from = anchorMs - (spec.hours ?? 24) * 3600_000;
    const gaps = [...(spec.gaps ?? DEFAULT_GAPS)]
      .map((g) => [anchorMs - g.agoSec * 1000, anchorMs - g.agoSec * 1000 + g.lengthSec * 1000] as const)
      .sort((a, b) => a[0] - b[0]);
    const ranges: Array<[number, number]> = [];
    let at = from;
    for (const [a, b] of gaps) {
      if (b <= at) continue;
      if (a > at) ranges.push([at, a]);
      at = Math.max(at, b);
    }
    ranges.push([at, Number.POSITIVE_INFINITY]);
    this.#ranges = ranges;
  }

  /** Ranges clipped to [fromMs, toMs) and to `nowMs` (nothing is recorded in the future). */
  ranges(nowMs: number, fromMs = Number.NEGATIVE_INFINITY, toMs = Number.POSITIVE_INFINITY): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [a, b] of this.#ranges) {
      const s = Math.max(a, fromMs);
      const e = Math.min(b, toMs, nowMs);
      if (e > s) out.push([s, e]);
    }
    return out;
  }

  earliest(): number {
    return this.#ranges[0]![0];
  }

  /** Where replay asked to start at `ms` really starts: `ms` if recorded, else the next recorded moment. */
  startAt(ms: number, nowMs: number): number | undefined {
    for (const [a, b] of this.ranges(nowMs)) {
      if (ms < a) return a;
      if (ms < b) return ms;
    }
    return undefined;
  }
}

/** A search the client runs with FindRecordings / FindEvents and reads with Get…SearchResults. */
interface Search {
  kind: 'recordings' | 'events';
  results: string[];
  expiresAt: number;
}

/** Search sessions of one camera (ONVIF search service: KeepAliveTime, EndSearch). */
export class SearchSessions {
  readonly #searches = new Map<string, Search>();

  create(kind: Search['kind'], results: string[], nowMs: number, keepAliveMs: number): string | undefined {
    for (const [t, s] of this.#searches) if (s.expiresAt <= nowMs) this.#searches.delete(t);
    if (this.#searches.size >= 16) return undefined;
    const token = `Search_${randomBytes(6).toString('hex')}`;
    this.#searches.set(token, { kind, results, expiresAt: nowMs + Math.min(Math.max(keepAliveMs, 5_000), 300_000) });
    return token;
  }

  /** Hands out up to `max` results; the search is Completed once none are left. */
  take(token: string, kind: Search['kind'], max: number, nowMs: number) {
    const s = this.#searches.get(token);
    if (!s || s.kind !== kind || s.expiresAt <= nowMs) return undefined;
    const out = s.results.splice(0, Math.max(1, Math.min(max, 1000)));
    return { results: out, state: s.results.length ? 'Searching' : 'Completed' };
  }

  end(token: string): boolean {
    return this.#searches.delete(token);
  }
}

/** Device times as cameras print them: UTC, no milliseconds. */
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export interface RecordingSource {
  code: string;
  name: string;
  mainStreamUri: string;
}

const sourceXml = (c: RecordingSource) =>
  `<tt:SourceId>VideoSource_1</tt:SourceId><tt:Name>${esc(c.name)}</tt:Name><tt:Location>${esc(c.code)}</tt:Location>` +
  `<tt:Description>main stream</tt:Description><tt:Address>${esc(c.mainStreamUri)}</tt:Address>`;

/** tt:RecordingInformation of the camera's one recording. */
export function recordingInformation(c: RecordingSource, rec: SimRecording, nowMs: number): string {
  const ranges = rec.ranges(nowMs);
  const from = ranges[0]?.[0] ?? nowMs;
  const to = ranges.at(-1)?.[1] ?? nowMs;
  return (
    `<tt:RecordingToken>${RECORDING_TOKEN}</tt:RecordingToken><tt:Source>${sourceXml(c)}</tt:Source>` +
    `<tt:EarliestRecording>${iso(from)}</tt:EarliestRecording><tt:LatestRecording>${iso(to)}</tt:LatestRecording>` +
    `<tt:Content>continuous</tt:Content>` +
    `<tt:Track><tt:TrackToken>${TRACK_TOKEN}</tt:TrackToken><tt:TrackType>Video</tt:TrackType>` +
    `<tt:Description>H.264 main stream</tt:Description><tt:DataFrom>${iso(from)}</tt:DataFrom><tt:DataTo>${iso(to)}</tt:DataTo></tt:Track>` +
    `<tt:RecordingStatus>Recording</tt:RecordingStatus>`
  );
}

export function recordingSummary(rec: SimRecording, nowMs: number): string {
  const ranges = rec.ranges(nowMs);
  return (
    `<tse:GetRecordingSummaryResponse><tse:Summary><tt:DataFrom>${iso(ranges[0]?.[0] ?? nowMs)}</tt:DataFrom>` +
    `<tt:DataUntil>${iso(ranges.at(-1)?.[1] ?? nowMs)}</tt:DataUntil><tt:NumberRecordings>1</tt:NumberRecordings>` +
    `</tse:Summary></tse:GetRecordingSummaryResponse>`
  );
}

/** trc:GetRecordingsResponse: the recording and its one video track. */
export function recordingsList(c: RecordingSource, hours: number): string {
  return (
    `<trc:GetRecordingsResponse><trc:RecordingItem><trc:RecordingToken>${RECORDING_TOKEN}</trc:RecordingToken>` +
    `<trc:Configuration><tt:Source>${sourceXml(c)}</tt:Source><tt:Content>continuous</tt:Content>` +
    `<tt:MaximumRetentionTime>PT${Math.round(hours)}H</tt:MaximumRetentionTime></trc:Configuration>` +
    `<trc:Tracks><trc:Track><trc:TrackToken>${TRACK_TOKEN}</trc:TrackToken><trc:Configuration>` +
    `<tt:TrackType>Video</tt:TrackType><tt:Description>H.264 main stream</tt:Description></trc:Configuration></trc:Track></trc:Tracks>` +
    `</trc:RecordingItem></trc:GetRecordingsResponse>`
  );
}

/**
 * FindEvents results for `tns1:RecordingHistory/Track/State` (Profile G's way to tell where data is): a
 * state event at each start (IsDataPresent true) and end (false) of recorded data inside [from, to], and
 * with IncludeStartState the state at `from`.
 */
export function trackStateEvents(
  rec: SimRecording,
  nowMs: number,
  fromMs: number,
  toMs: number,
  includeStartState: boolean,
): string[] {
  const lo = Math.min(fromMs, toMs);
  const hi = Math.max(fromMs, toMs);
  const out: string[] = [];
  const ranges = rec.ranges(nowMs);
  if (includeStartState) {
    const present = ranges.some(([a, b]) => lo >= a && lo < b);
    out.push(stateEvent(lo, present, true));
  }
  const edges: Array<[number, boolean]> = [];
  for (const [a, b] of ranges) {
    if (a > lo && a <= hi) edges.push([a, true]);
    if (b > lo && b <= hi && b < nowMs) edges.push([b, false]);
  }
  // A search backwards (EndPoint before StartPoint) lists newest first, as the spec asks.
  if (toMs < fromMs) edges.reverse();
  for (const [t, present] of edges) out.push(stateEvent(t, present, false));
  return out;
}

function stateEvent(ms: number, present: boolean, startState: boolean): string {
  return (
    `<tt:RecordingToken>${RECORDING_TOKEN}</tt:RecordingToken><tt:TrackToken>${TRACK_TOKEN}</tt:TrackToken>` +
    `<tt:Time>${iso(ms)}</tt:Time><tt:Event>` +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RecordingHistory/Track/State</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${iso(ms)}" PropertyOperation="Changed"><tt:Source>` +
    `<tt:SimpleItem Name="RecordingToken" Value="${RECORDING_TOKEN}"/><tt:SimpleItem Name="Track" Value="${TRACK_TOKEN}"/></tt:Source>` +
    `<tt:Data><tt:SimpleItem Name="IsDataPresent" Value="${present}"/></tt:Data></tt:Message></wsnt:Message></tt:Event>` +
    `<tt:StartStateEvent>${startState}</tt:StartStateEvent>`
  );
}

/**
 * The start of an RTSP replay `Range` header: `clock=20260101T120000Z-` (RFC 2326's compact form, what ONVIF
 * clients send), `clock=2026-01-01T12:00:00.5Z-` (extended ISO 8601) or `npt=` (seconds from the recording's
 * start). Returns ms on the device clock, 'start' for npt 0 / no header, undefined when unreadable.
 */
export function parseReplayRange(
  header: string | undefined,
): { kind: 'clock'; ms: number; endMs?: number } | { kind: 'npt'; sec: number } | undefined {
  if (!header) return { kind: 'npt', sec: 0 };
  const h = header.trim();
  const clock = /^clock=(\S+?Z)-(\S*)$/i.exec(h);
  if (clock) {
    const ms = clockTime(clock[1]!);
    if (ms === undefined) return undefined;
    const end = clock[2] ? clockTime(clock[2]) : undefined;
    if (clock[2] && end === undefined) return undefined;
    return end === undefined ? { kind: 'clock', ms } : { kind: 'clock', ms, endMs: end };
  }
  const npt = /^npt=(\d+(?:\.\d+)?|now)-/i.exec(h);
  if (npt) return { kind: 'npt', sec: npt[1] === 'now' ? 0 : Number(npt[1]) };
  return undefined;
}

function clockTime(s: string): number | undefined {
  const compact = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/.exec(s);
  if (compact) {
    const [, y, mo, d, h, mi, sec, frac] = compact;
    return Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +sec!) + (frac ? Math.round(Number(frac) * 1000) : 0);
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s)) return Date.parse(s);
  return undefined;
}

/** RFC 2326 compact clock time, the form a server answers with. */
export const compactClock = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d{3})Z$/, '.$1Z');
