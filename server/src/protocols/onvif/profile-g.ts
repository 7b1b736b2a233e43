/**
 * ONVIF Profile G for playback from a camera's own storage (issue 14): which services the device has, where
 * its recording holds data in a time range (search service: FindRecordings, then FindEvents for
 * `tns1:RecordingHistory/Track/State`, whose IsDataPresent edges are the gaps), and the RTSP replay URI
 * (replay service). Plus the RTSP headers a replay PLAY carries (ONVIF Streaming, Replay: `Require:
 * onvif-replay`, `Range: clock=`, `Scale`). Device replies are hostile: counts and loops are capped.
 *
 * Times cross the device's clock: what we ask is shifted by the learnt offset, what it says shifted back.
 */
import { at, escapeXml, list, text, type XmlNode } from '../xml.ts';
import { OnvifError, type OnvifClient } from './client.ts';

export const PROFILE_G_NS = {
  search: 'http://www.onvif.org/ver10/search/wsdl',
  replay: 'http://www.onvif.org/ver10/replay/wsdl',
  recording: 'http://www.onvif.org/ver10/recording/wsdl',
  schema: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
} as const;

export interface ProfileGServices {
  search: string;
  replay: string;
}

/** A recorded range on OUR clock, epoch ms, [start, end). */
export type RecordedRange = [number, number];

export interface DeviceRecording {
  token: string;
  /** On our clock; null when the device does not say. */
  earliestMs: number | null;
  latestMs: number | null;
}

/** The search and replay services, or null when the device has no Profile G (no replay or no search). */
export async function profileGServices(client: OnvifClient): Promise<ProfileGServices | null> {
  let services: Map<string, string>;
  try {
    services = await client.getServices();
  } catch (err) {
    // GetServices is mandatory since ONVIF 2.0: a device that faults on it predates Profile G.
    if (err instanceof OnvifError && err.kind === 'fault') return null;
    throw err;
  }
  const search = services.get(PROFILE_G_NS.search);
  const replay = services.get(PROFILE_G_NS.replay);
  return search && replay ? { search, replay } : null;
}

const deviceMs = (t: string | undefined): number | null => {
  if (!t || t.length > 40) return null;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
};
const isoAt = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const token = (t: string | undefined) => (t && /^[\w.:-]{1,64}$/.test(t) ? t : null);
const MAX_ROUNDS = 20;

/** Reads a search to its end (SearchState Completed), `max` results at most. */
async function readSearch(
  client: OnvifClient,
  url: string,
  op: 'GetRecordingSearchResults' | 'GetEventSearchResults',
  searchToken: string,
  pick: (resultList: XmlNode | undefined) => XmlNode[],
  max: number,
): Promise<XmlNode[]> {
  const out: XmlNode[] = [];
  for (let round = 0; round < MAX_ROUNDS && out.length < max; round++) {
    const b = await client.callService(
      url,
      `<tse:${op} xmlns:tse="${PROFILE_G_NS.search}"><tse:SearchToken>${escapeXml(searchToken)}</tse:SearchToken>` +
        `<tse:MinResults>1</tse:MinResults><tse:MaxResults>100</tse:MaxResults><tse:WaitTime>PT2S</tse:WaitTime></tse:${op}>`,
    );
    const rl = at(b, `${op}Response`, 'ResultList');
    out.push(...pick(rl).slice(0, max - out.length));
    if (text(at(rl, 'SearchState')) === 'Completed') return out;
  }
  // Not completed within our patience: end it on the device (best effort) and use what came.
  await client
    .callService(
      url,
      `<tse:EndSearch xmlns:tse="${PROFILE_G_NS.search}"><tse:SearchToken>${escapeXml(searchToken)}</tse:SearchToken></tse:EndSearch>`,
    )
    .catch(() => undefined);
  return out;
}

function searchToken(b: XmlNode, op: string): string {
  const t = token(text(at(b, `${op}Response`, 'SearchToken')));
  if (!t) throw new OnvifError('malformed', `reply to ${op} lacks a search token`);
  return t;
}

/** FindRecordings: the device's recordings with their earliest and latest data. */
export async function findRecordings(client: OnvifClient, svc: ProfileGServices): Promise<DeviceRecording[]> {
  const b = await client.callService(
    svc.search,
    `<tse:FindRecordings xmlns:tse="${PROFILE_G_NS.search}"><tse:Scope/><tse:MaxMatches>16</tse:MaxMatches>` +
      `<tse:KeepAliveTime>PT30S</tse:KeepAliveTime></tse:FindRecordings>`,
  );
  const items = await readSearch(
    client,
    svc.search,
    'GetRecordingSearchResults',
    searchToken(b, 'FindRecordings'),
    (rl) => list(at(rl, 'RecordingInformation')),
    16,
  );
  const off = client.clockOffsetMs;
  const out: DeviceRecording[] = [];
  for (const r of items) {
    const t = token(text(at(r, 'RecordingToken')));
    if (!t) continue;
    const e = deviceMs(text(at(r, 'EarliestRecording')));
    const l = deviceMs(text(at(r, 'LatestRecording')));
    out.push({ token: t, earliestMs: e === null ? null : e - off, latestMs: l === null ? null : l - off });
  }
  return out;
}

/**
 * Where `recording` holds data in [fromMs, toMs) (our clock): the RecordingHistory track states from
 * FindEvents folded into ranges. A device that cannot search events gives its earliest–latest as one range.
 */
export async function recordedRanges(
  client: OnvifClient,
  svc: ProfileGServices,
  recording: DeviceRecording,
  fromMs: number,
  toMs: number,
): Promise<RecordedRange[]> {
  const off = client.clockOffsetMs;
  let states: Array<{ at: number; present: boolean }>;
  try {
    const b = await client.callService(
      svc.search,
      `<tse:FindEvents xmlns:tse="${PROFILE_G_NS.search}" xmlns:tt="${PROFILE_G_NS.schema}" xmlns:wsnt="${PROFILE_G_NS.wsnt}">` +
        `<tse:StartPoint>${isoAt(fromMs + off)}</tse:StartPoint><tse:EndPoint>${isoAt(toMs + off)}</tse:EndPoint>` +
        `<tse:Scope><tt:IncludedRecordings>${escapeXml(recording.token)}</tt:IncludedRecordings></tse:Scope>` +
        `<tse:SearchFilter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">tns1:RecordingHistory/Track/State</wsnt:TopicExpression></tse:SearchFilter>` +
        `<tse:IncludeStartState>true</tse:IncludeStartState><tse:MaxMatches>2000</tse:MaxMatches><tse:KeepAliveTime>PT30S</tse:KeepAliveTime></tse:FindEvents>`,
    );
    const results = await readSearch(
      client,
      svc.search,
      'GetEventSearchResults',
      searchToken(b, 'FindEvents'),
      (rl) => list(at(rl, 'Result')),
      2000,
    );
    states = [];
    for (const r of results) {
      const t = deviceMs(text(at(r, 'Time')));
      const items = list(at(r, 'Event', 'Message', 'Message', 'Data', 'SimpleItem'));
      const item = items.find((i) => attrOf(i, 'Name') === 'IsDataPresent');
      if (t === null || !item) continue;
      states.push({ at: t - off, present: attrOf(item, 'Value') === 'true' });
    }
  } catch (err) {
    if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
    const a = Math.max(fromMs, recording.earliestMs ?? fromMs);
    const e = Math.min(toMs, recording.latestMs ?? toMs);
    return e > a ? [[a, e]] : [];
  }
  return foldStates(states, fromMs, toMs);
}

const attrOf = (n: XmlNode, name: string) =>
  n && typeof n === 'object' && !Array.isArray(n) ? (n[`@${name}`] as string | undefined) : undefined;

/** Data-present edges (any order) into recorded ranges inside [fromMs, toMs); a range still open ends at `toMs`. */
export function foldStates(
  states: ReadonlyArray<{ at: number; present: boolean }>,
  fromMs: number,
  toMs: number,
): RecordedRange[] {
  const sorted = [...states].sort((a, b) => a.at - b.at);
  const out: RecordedRange[] = [];
  let openAt: number | null = null;
  for (const s of sorted) {
    const t = Math.min(Math.max(s.at, fromMs), toMs);
    if (s.present && openAt === null) openAt = t;
    else if (!s.present && openAt !== null) {
      if (t > openAt) out.push([openAt, t]);
      openAt = null;
    }
  }
  if (openAt !== null && toMs > openAt) out.push([openAt, toMs]);
  return out;
}

/** GetReplayUri: the RTSP address that replays `recordingToken`, on the host we reached the device at. */
export async function getReplayUri(
  client: OnvifClient,
  svc: ProfileGServices,
  recordingToken: string,
  reachedAt: string,
): Promise<string> {
  const t = token(recordingToken);
  if (!t) throw new OnvifError('malformed', 'recording token has unexpected characters');
  const b = await client.callService(
    svc.replay,
    `<trp:GetReplayUri xmlns:trp="${PROFILE_G_NS.replay}" xmlns:tt="${PROFILE_G_NS.schema}"><trp:StreamSetup>` +
      `<tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trp:StreamSetup>` +
      `<trp:RecordingToken>${t}</trp:RecordingToken></trp:GetReplayUri>`,
  );
  const uri = text(at(b, 'GetReplayUriResponse', 'Uri'));
  if (!uri || uri.length > 2048 || /[\s\u0000-\u001f]/.test(uri))
    throw new OnvifError('malformed', 'reply lacks a usable replay URI');
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new OnvifError('malformed', 'device returned an unparseable replay URI');
  }
  if (u.protocol !== 'rtsp:' && u.protocol !== 'rtsps:')
    throw new OnvifError('malformed', `device returned a ${u.protocol} replay URI`);
  // Devices behind NAT name their own address: replay from the host that answered.
  u.hostname = new URL(reachedAt).hostname;
  u.username = '';
  u.password = '';
  return u.toString();
}

/** RFC 2326 compact clock time: 20260102T030405.250Z. */
export function rtspClock(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/**
 * Headers of an ONVIF replay: `Require: onvif-replay` on every request, and on PLAY the moment (on the
 * DEVICE's clock) and the speed.
 */
export function replayHeaders(
  startMs: number,
  scale: number,
  clockOffsetMs: number,
): { all: Array<[string, string]>; play: Array<[string, string]> } {
  return {
    all: [['Require', 'onvif-replay']],
    play: [
      ['Range', `clock=${rtspClock(startMs + clockOffsetMs)}-`],
      ['Scale', String(scale)],
    ],
  };
}
