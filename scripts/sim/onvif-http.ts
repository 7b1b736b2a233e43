/**
 * ONVIF SOAP-over-HTTP server for one simulated camera, bound to the camera's own loopback address:
 * device, media, PTZ and event services plus the snapshot URL. WS-UsernameToken is checked against the
 * device clock; faults (slow, malformed, wrong password) are applied per reply.
 */
import http from 'node:http';
import type { ClipParams, ClipStore } from './clips.ts';
import type { EventBroker } from './events.ts';
import { checkAuthorization, digestChallenge } from './http-auth.ts';
import * as B from './onvif-bodies.ts';
import { ImagingState } from './imaging.ts';
import type { PtzState } from './ptz.ts';
import * as R from './recordings.ts';
import { isLoopbackV4 } from './specs.ts';
import type { SimCameraInfo, SimCounters, SimFaults, SimStreamName } from './types.ts';
import { type NonceCache, verifyUsernameToken } from './wsse.ts';
import {
  FAULTS,
  attrOf,
  childText,
  childXml,
  envelope,
  esc,
  faultBody,
  parseDurationMs,
  parseSoapRequest,
  type SoapFault,
  type SoapRequest,
  type SoapVersion,
} from './xml.ts';

export const MAX_SOAP_BODY = 1024 * 1024;
const MAX_CONNECTIONS = 64;
/** Longest PullMessages wait a camera grants, whatever the client asks. */
const MAX_PULL_MS = 120_000;

export interface OnvifCamera {
  info(): SimCameraInfo;
  faults(): SimFaults;
  /** Real time + the camera's clock offset. */
  deviceNowMs(): number;
  ptz: PtzState | undefined;
  events: EventBroker;
  nonces: NonceCache;
  clipParams(stream: SimStreamName): ClipParams;
  /** Its own recordings (Profile G); undefined on a camera without them. */
  recording(): R.SimRecording | undefined;
  /** SetSynchronizationPoint: the profile's next picture is an IDR. */
  syncPoint(stream: SimStreamName): void;
  readonly searches: R.SearchSessions;
}

export interface OnvifDeps {
  clips: ClipStore;
  counters: SimCounters;
  /** Accepted |Created − device clock|, seconds. */
  authWindowSec: number;
  /** Snapshot URL: 'optional' accepts requests without credentials (wrong ones never). */
  snapshotAuth: 'optional' | 'required';
  log?: (msg: string) => void;
}

type Service = 'device' | 'media' | 'ptz' | 'imaging' | 'events' | 'subscription' | 'recording' | 'search' | 'replay';

interface Ctx {
  camera: OnvifCamera;
  info: SimCameraInfo;
  req: SoapRequest;
  deps: OnvifDeps;
  nowMs: number;
  deviceNowMs: number;
  subscriptionId?: string;
  /** Fires when the HTTP client goes away (long polls stop waiting). */
  onClientGone(fn: () => void): void;
}

type Result = string | SoapFault;
interface Op {
  /** 'always': no credentials needed (GetSystemDateAndTime). 'soft': checked only when a token is sent. */
  open?: 'always' | 'soft';
  run(ctx: Ctx): Result | Promise<Result>;
}

const noProfile = () => FAULTS.invalidArg('ter:NoProfile', 'The requested profile token does not exist');
const profileArg = (ctx: Ctx) => B.streamOfToken(childText(ctx.req.body, 'ProfileToken'));
/** A camera behind NAT names its own (private) address in the media URIs it reports. */
const advertised = (info: SimCameraInfo, uri: string) => {
  if (!info.advertisedHost) return uri;
  const u = new URL(uri);
  u.hostname = info.advertisedHost;
  return u.toString();
};

function vector(xml: string | undefined): { pan?: number; tilt?: number; zoom?: number } {
  if (!xml) return {};
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  return {
    pan: num(attrOf(xml, 'PanTilt', 'x')),
    tilt: num(attrOf(xml, 'PanTilt', 'y')),
    zoom: num(attrOf(xml, 'Zoom', 'x')),
  };
}

const DEVICE: Record<string, Op> = {
  GetSystemDateAndTime: { open: 'always', run: (c) => B.systemDateAndTime(c.info, c.deviceNowMs) },
  GetCapabilities: {
    open: 'soft',
    run: (c) => {
      const cats = [...c.req.body.matchAll(/<(?:[\w.-]+:)?Category\s*>\s*([A-Za-z]+)\s*</g)].map((m) => m[1]!);
      return (
        B.capabilities(c.info, cats) ??
        FAULTS.receiver('ter:NoSuchService', 'The requested WSDL service category is not supported')
      );
    },
  },
  GetServices: { open: 'soft', run: (c) => B.services(c.info, childText(c.req.body, 'IncludeCapability') === 'true') },
  GetServiceCapabilities: { open: 'soft', run: () => B.serviceCapabilities.device() },
  GetDeviceInformation: { run: (c) => B.deviceInformation(c.info) },
  GetNetworkInterfaces: { run: (c) => B.networkInterfaces(c.info) },
  GetScopes: { run: (c) => B.scopes(c.info) },
  GetHostname: { run: (c) => B.hostname(c.info) },
};

const MEDIA: Record<string, Op> = {
  GetServiceCapabilities: { run: () => B.serviceCapabilities.media() },
  GetProfiles: { run: (c) => B.profiles(c.info, c.info.keyframeIntervalSec) },
  GetProfile: {
    run: (c) => {
      const s = profileArg(c);
      return s ? B.profile(c.info, s, c.info.keyframeIntervalSec) : noProfile();
    },
  },
  GetVideoSources: { run: (c) => B.videoSources(c.info) },
  GetVideoSourceConfigurations: { run: (c) => B.videoSourceConfigurations(c.info) },
  GetVideoEncoderConfigurations: { run: (c) => B.videoEncoderConfigurations(c.info, c.info.keyframeIntervalSec) },
  GetVideoEncoderConfiguration: {
    run: (c) => {
      const t = childText(c.req.body, 'ConfigurationToken');
      const s = t === 'VideoEncoderToken_1' ? 'main' : t === 'VideoEncoderToken_2' ? 'sub' : undefined;
      return s
        ? B.videoEncoderConfiguration(c.info, s, c.info.keyframeIntervalSec)
        : FAULTS.invalidArg('ter:NoConfig', 'The requested configuration does not exist');
    },
  },
  GetStreamUri: {
    run: (c) => {
      const s = profileArg(c);
      if (!s) return noProfile();
      if (childText(c.req.body, 'Stream') === 'RTP-Multicast') {
        return FAULTS.invalidArg('ter:InvalidStreamSetup', 'Multicast streaming is not configured');
      }
      return B.mediaUri(
        'GetStreamUriResponse',
        advertised(c.info, s === 'main' ? c.info.mainStreamUri : c.info.subStreamUri),
      );
    },
  },
  GetSnapshotUri: {
    run: (c) =>
      profileArg(c) ? B.mediaUri('GetSnapshotUriResponse', advertised(c.info, c.info.snapshotUri)) : noProfile(),
  },
  // Media (ver10) SetSynchronizationPoint: an IDR as soon as possible on the profile's stream.
  SetSynchronizationPoint: {
    run: (c) => {
      const s = profileArg(c);
      if (!s) return noProfile();
      c.camera.syncPoint(s);
      c.deps.counters.syncPoints++;
      return '<trt:SetSynchronizationPointResponse/>';
    },
  },
};

function withPtz(fn: (c: Ctx, ptz: PtzState) => Result): Op {
  return {
    run: (c) => {
      const ptz = c.camera.ptz;
      if (!ptz) return FAULTS.actionNotSupported(c.req.op);
      return fn(c, ptz);
    },
  };
}

const ptzProfileOk = (c: Ctx) => {
  const t = childText(c.req.body, 'ProfileToken');
  return t === undefined || B.streamOfToken(t) !== undefined;
};

const PTZ: Record<string, Op> = {
  GetServiceCapabilities: withPtz(() => B.serviceCapabilities.ptz()),
  GetNodes: withPtz(() => B.ptzNodes()),
  GetConfigurations: withPtz(() => B.ptzConfigurations()),
  GetStatus: withPtz((c, p) => (ptzProfileOk(c) ? B.ptzStatus(p, c.nowMs, c.deviceNowMs) : noProfile())),
  GetPresets: withPtz((c, p) => (ptzProfileOk(c) ? B.ptzPresets(p.presets.values()) : noProfile())),
  GotoPreset: withPtz((c, p) => {
    if (!ptzProfileOk(c)) return noProfile();
    const token = childText(c.req.body, 'PresetToken') ?? '';
    return p.gotoPreset(c.nowMs, token)
      ? '<tptz:GotoPresetResponse/>'
      : FAULTS.invalidArg('ter:NoToken', 'The requested preset token does not exist');
  }),
  SetPreset: withPtz((c, p) => {
    if (!ptzProfileOk(c)) return noProfile();
    const t = p.setPreset(c.nowMs, childText(c.req.body, 'PresetName'), childText(c.req.body, 'PresetToken'));
    return t
      ? `<tptz:SetPresetResponse><tptz:PresetToken>${t}</tptz:PresetToken></tptz:SetPresetResponse>`
      : FAULTS.invalidArg('ter:NoToken', 'The requested preset token does not exist');
  }),
  RemovePreset: withPtz((c, p) =>
    p.removePreset(childText(c.req.body, 'PresetToken') ?? '')
      ? '<tptz:RemovePresetResponse/>'
      : FAULTS.invalidArg('ter:NoToken', 'The requested preset token does not exist'),
  ),
  GotoHomePosition: withPtz((c, p) => {
    p.gotoHome(c.nowMs);
    return '<tptz:GotoHomePositionResponse/>';
  }),
  SetHomePosition: withPtz((c, p) => {
    p.setHome(c.nowMs);
    return '<tptz:SetHomePositionResponse/>';
  }),
  ContinuousMove: withPtz((c, p) => {
    if (!ptzProfileOk(c)) return noProfile();
    const v = vector(childXml(c.req.body, 'Velocity'));
    p.continuousMove(c.nowMs, v, parseDurationMs(childText(c.req.body, 'Timeout')));
    return '<tptz:ContinuousMoveResponse/>';
  }),
  Stop: withPtz((c, p) => {
    const pt = childText(c.req.body, 'PanTilt');
    const z = childText(c.req.body, 'Zoom');
    p.stop(c.nowMs, pt !== 'false', z !== 'false');
    return '<tptz:StopResponse/>';
  }),
  AbsoluteMove: withPtz((c, p) => {
    if (!ptzProfileOk(c)) return noProfile();
    p.absoluteMove(c.nowMs, vector(childXml(c.req.body, 'Position')));
    return '<tptz:AbsoluteMoveResponse/>';
  }),
  RelativeMove: withPtz((c, p) => {
    if (!ptzProfileOk(c)) return noProfile();
    p.relativeMove(c.nowMs, vector(childXml(c.req.body, 'Translation')));
    return '<tptz:RelativeMoveResponse/>';
  }),
};

/** Each dome's lens (imaging.ts), made on first use. */
const lenses = new WeakMap<OnvifCamera, ImagingState>();
const lensOf = (c: Ctx) => {
  let lens = lenses.get(c.camera);
  if (!lens) lenses.set(c.camera, (lens = new ImagingState()));
  return lens;
};
const sourceOk = (c: Ctx) => childText(c.req.body, 'VideoSourceToken') === 'VideoSource_1';
const noSource = () => FAULTS.invalidArg('ter:NoSource', 'The requested video source does not exist');

/** Imaging (ver20) for domes: continuous focus Move/Stop and its status, the iris in the settings. */
const IMAGING: Record<string, Op> = {
  Move: withPtz((c) => {
    if (!sourceOk(c)) return noSource();
    const speed = Number(childText(childXml(c.req.body, 'Continuous') ?? '', 'Speed'));
    if (!Number.isFinite(speed)) return FAULTS.invalidArg('ter:NoImagingForSource', 'Only continuous focus moves');
    lensOf(c).move(c.nowMs, speed);
    return '<timg:MoveResponse/>';
  }),
  Stop: withPtz((c) => {
    if (!sourceOk(c)) return noSource();
    lensOf(c).stop(c.nowMs);
    return '<timg:StopResponse/>';
  }),
  GetStatus: withPtz((c) => {
    if (!sourceOk(c)) return noSource();
    const f = lensOf(c).focus(c.nowMs);
    return (
      `<timg:GetStatusResponse><timg:Status><tt:FocusStatus20><tt:Position>${f.position.toFixed(4)}</tt:Position>` +
      `<tt:MoveStatus>${f.moving ? 'MOVING' : 'IDLE'}</tt:MoveStatus></tt:FocusStatus20></timg:Status></timg:GetStatusResponse>`
    );
  }),
  GetImagingSettings: withPtz((c) => {
    if (!sourceOk(c)) return noSource();
    const lens = lensOf(c);
    return (
      `<timg:GetImagingSettingsResponse><timg:ImagingSettings><tt:Exposure><tt:Mode>${lens.iris === 0 ? 'AUTO' : 'MANUAL'}</tt:Mode>` +
      `<tt:Iris>${lens.iris.toFixed(1)}</tt:Iris></tt:Exposure><tt:Focus><tt:AutoFocusMode>MANUAL</tt:AutoFocusMode></tt:Focus>` +
      `</timg:ImagingSettings></timg:GetImagingSettingsResponse>`
    );
  }),
  SetImagingSettings: withPtz((c) => {
    if (!sourceOk(c)) return noSource();
    const iris = childText(childXml(c.req.body, 'Exposure') ?? '', 'Iris');
    if (iris !== undefined) lensOf(c).setIris(Number(iris));
    return '<timg:SetImagingSettingsResponse/>';
  }),
};

function terminationMs(xml: string | undefined, deviceNowMs: number, dflt: number): number {
  if (!xml) return dflt;
  const d = parseDurationMs(xml);
  if (d !== undefined) return d;
  // Absolute time, on the device clock.
  const abs = Date.parse(xml);
  return Number.isNaN(abs) ? dflt : Math.max(1000, abs - deviceNowMs);
}

const subAddress = (c: Ctx, id: string) => `${c.info.eventsServiceUrl}/subscription/${id}`;
const clampTtl = (ms: number) => Math.min(Math.max(ms, 10_000), 3600_000);

const EVENTS: Record<string, Op> = {
  GetServiceCapabilities: { run: () => B.serviceCapabilities.events() },
  GetEventProperties: { run: () => B.eventProperties() },
  CreatePullPointSubscription: {
    run: (c) => {
      const ttl = clampTtl(terminationMs(childText(c.req.body, 'InitialTerminationTime'), c.deviceNowMs, 60_000));
      const sub = c.camera.events.create(c.nowMs, ttl);
      if (!sub) return FAULTS.receiver('ter:MaxPullPoints', 'Too many pull-point subscriptions');
      c.deps.counters.eventSubscriptions++;
      const offset = c.deviceNowMs - c.nowMs;
      return B.createPullPointResponse(subAddress(c, sub.id), c.deviceNowMs, sub.expiresAtMs + offset);
    },
  },
};

const unknownSub = () => FAULTS.invalidArg('ter:NoSubscription', 'The subscription does not exist or has expired');

const SUBSCRIPTION: Record<string, Op> = {
  PullMessages: {
    run: async (c) => {
      const sub = c.subscriptionId ? c.camera.events.get(c.subscriptionId, c.nowMs) : undefined;
      if (!sub) return unknownSub();
      const timeout = Math.min(parseDurationMs(childText(c.req.body, 'Timeout')) ?? 10_000, MAX_PULL_MS);
      const limit = Math.min(Math.max(Number(childText(c.req.body, 'MessageLimit') ?? 10) || 10, 1), 100);
      // A waiting pull keeps the subscription alive (cameras extend it by the wait).
      sub.expiresAtMs = Math.max(sub.expiresAtMs, c.nowMs + timeout + 10_000);
      const pull = c.camera.events.pull(sub, timeout, limit);
      c.onClientGone(() => pull.cancel());
      const msgs = await pull.done;
      const now = Date.now();
      const offset = c.deviceNowMs - c.nowMs;
      const addr = subAddress(c, sub.id);
      return B.pullMessagesResponse(
        msgs.map((m) => B.notificationMessage(m, offset, addr)).join(''),
        now + offset,
        sub.expiresAtMs + offset,
      );
    },
  },
  Renew: {
    run: (c) => {
      const sub = c.subscriptionId ? c.camera.events.get(c.subscriptionId, c.nowMs) : undefined;
      if (!sub) return unknownSub();
      sub.expiresAtMs =
        c.nowMs + clampTtl(terminationMs(childText(c.req.body, 'TerminationTime'), c.deviceNowMs, 60_000));
      const offset = c.deviceNowMs - c.nowMs;
      return B.renewResponse(c.deviceNowMs, sub.expiresAtMs + offset);
    },
  },
  Unsubscribe: {
    run: (c) =>
      c.subscriptionId && c.camera.events.unsubscribe(c.subscriptionId) ? '<wsnt:UnsubscribeResponse/>' : unknownSub(),
  },
  SetSynchronizationPoint: {
    run: (c) =>
      c.subscriptionId && c.camera.events.get(c.subscriptionId, c.nowMs)
        ? '<tev:SetSynchronizationPointResponse/>'
        : unknownSub(),
  },
};

// ---------------------------------------------------------------- Profile G (recordings.ts)

const noRecording = () => FAULTS.invalidArg('ter:NoRecording', 'The recording token does not exist');
const recordingOk = (c: Ctx) => {
  const t = childText(c.req.body, 'RecordingToken');
  return t === undefined || t === R.RECORDING_TOKEN;
};
const sourceOf = (c: Ctx): R.RecordingSource => ({
  code: c.info.code,
  name: c.info.model,
  mainStreamUri: c.info.mainStreamUri,
});
/** Device times in a request (ISO 8601, UTC or with an offset). */
const timeArg = (c: Ctx, name: string) => {
  const t = childText(c.req.body, name);
  const ms = t === undefined || t.length > 40 ? NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
};
const keepAlive = (c: Ctx) => parseDurationMs(childText(c.req.body, 'KeepAliveTime')) ?? 60_000;
const maxResults = (c: Ctx) => Number(childText(c.req.body, 'MaxResults') ?? 100) || 100;
const noSearch = () => FAULTS.invalidArg('ter:InvalidToken', 'The search token is invalid or has expired');

function withRecording(fn: (c: Ctx, rec: R.SimRecording) => Result): Op {
  return {
    run: (c) => {
      const rec = c.camera.recording();
      return rec ? fn(c, rec) : FAULTS.actionNotSupported(c.req.op);
    },
  };
}

const RECORDING: Record<string, Op> = {
  GetServiceCapabilities: withRecording(() => B.serviceCapabilities.recording()),
  GetRecordings: withRecording((c) => R.recordingsList(sourceOf(c), 24)),
};

const SEARCH: Record<string, Op> = {
  GetServiceCapabilities: withRecording(() => B.serviceCapabilities.search()),
  GetRecordingSummary: withRecording((c, rec) => R.recordingSummary(rec, c.deviceNowMs)),
  GetRecordingInformation: withRecording((c, rec) =>
    recordingOk(c)
      ? `<tse:GetRecordingInformationResponse><tse:RecordingInformation>${R.recordingInformation(sourceOf(c), rec, c.deviceNowMs)}</tse:RecordingInformation></tse:GetRecordingInformationResponse>`
      : noRecording(),
  ),
  FindRecordings: withRecording((c, rec) => {
    const info = `<tt:RecordingInformation>${R.recordingInformation(sourceOf(c), rec, c.deviceNowMs)}</tt:RecordingInformation>`;
    const token = c.camera.searches.create('recordings', [info], c.nowMs, keepAlive(c));
    if (!token) return FAULTS.receiver('ter:ResourceProblem', 'Too many searches');
    return `<tse:FindRecordingsResponse><tse:SearchToken>${token}</tse:SearchToken></tse:FindRecordingsResponse>`;
  }),
  GetRecordingSearchResults: withRecording((c) => {
    const got = c.camera.searches.take(
      childText(c.req.body, 'SearchToken') ?? '',
      'recordings',
      maxResults(c),
      c.nowMs,
    );
    if (!got) return noSearch();
    return (
      `<tse:GetRecordingSearchResultsResponse><tse:ResultList><tt:SearchState>${got.state}</tt:SearchState>` +
      `${got.results.join('')}</tse:ResultList></tse:GetRecordingSearchResultsResponse>`
    );
  }),
  FindEvents: withRecording((c, rec) => {
    const from = timeArg(c, 'StartPoint');
    if (from === undefined) return FAULTS.invalidArg('ter:InvalidArgs', 'StartPoint is missing or not a time');
    const to = timeArg(c, 'EndPoint') ?? c.deviceNowMs;
    const topic = childText(childXml(c.req.body, 'SearchFilter') ?? '', 'TopicExpression');
    // Only recording history is searchable here; any other topic finds nothing.
    const results =
      topic === undefined || /RecordingHistory/.test(topic)
        ? R.trackStateEvents(rec, c.deviceNowMs, from, to, childText(c.req.body, 'IncludeStartState') === 'true')
        : [];
    const max = Number(childText(c.req.body, 'MaxMatches') ?? 0);
    const token = c.camera.searches.create(
      'events',
      (max > 0 ? results.slice(0, max) : results).map((r) => `<tt:Result>${r}</tt:Result>`),
      c.nowMs,
      keepAlive(c),
    );
    if (!token) return FAULTS.receiver('ter:ResourceProblem', 'Too many searches');
    return `<tse:FindEventsResponse><tse:SearchToken>${token}</tse:SearchToken></tse:FindEventsResponse>`;
  }),
  GetEventSearchResults: withRecording((c) => {
    const got = c.camera.searches.take(childText(c.req.body, 'SearchToken') ?? '', 'events', maxResults(c), c.nowMs);
    if (!got) return noSearch();
    return (
      `<tse:GetEventSearchResultsResponse><tse:ResultList><tt:SearchState>${got.state}</tt:SearchState>` +
      `${got.results.join('')}</tse:ResultList></tse:GetEventSearchResultsResponse>`
    );
  }),
  EndSearch: withRecording((c) =>
    c.camera.searches.end(childText(c.req.body, 'SearchToken') ?? '')
      ? `<tse:EndSearchResponse><tse:Endpoint>${new Date(c.deviceNowMs).toISOString()}</tse:Endpoint></tse:EndSearchResponse>`
      : noSearch(),
  ),
};

const REPLAY: Record<string, Op> = {
  GetServiceCapabilities: withRecording(() => B.serviceCapabilities.replay()),
  GetReplayUri: withRecording((c) => {
    if (!recordingOk(c) || childText(c.req.body, 'RecordingToken') === undefined) return noRecording();
    if (childText(c.req.body, 'Stream') === 'RTP-Multicast')
      return FAULTS.invalidArg('ter:InvalidStreamSetup', 'Multicast replay is not supported');
    return `<trp:GetReplayUriResponse><trp:Uri>${esc(advertised(c.info, c.info.replayUri ?? ''))}</trp:Uri></trp:GetReplayUriResponse>`;
  }),
  GetReplayConfiguration: withRecording(
    () =>
      `<trp:GetReplayConfigurationResponse><trp:Configuration><tt:SessionTimeout>PT60S</tt:SessionTimeout></trp:Configuration></trp:GetReplayConfigurationResponse>`,
  ),
};

const TABLES: Record<Service, Record<string, Op>> = {
  device: DEVICE,
  media: MEDIA,
  ptz: PTZ,
  imaging: IMAGING,
  events: EVENTS,
  subscription: SUBSCRIPTION,
  recording: RECORDING,
  search: SEARCH,
  replay: REPLAY,
};

export function routeOf(path: string): { service: Service; subscriptionId?: string } | undefined {
  switch (path) {
    case '/onvif/device_service':
      return { service: 'device' };
    case '/onvif/media_service':
      return { service: 'media' };
    case '/onvif/ptz_service':
      return { service: 'ptz' };
    case '/onvif/imaging_service':
      return { service: 'imaging' };
    case '/onvif/events_service':
      return { service: 'events' };
    case '/onvif/recording_service':
      return { service: 'recording' };
    case '/onvif/search_service':
      return { service: 'search' };
    case '/onvif/replay_service':
      return { service: 'replay' };
  }
  const m = /^\/onvif\/events_service\/subscription\/([0-9a-f]{1,32})$/.exec(path);
  return m ? { service: 'subscription', subscriptionId: m[1]! } : undefined;
}

export interface SoapReply {
  status: number;
  xml: string;
  version: SoapVersion;
}

/** Runs one SOAP request against a camera: routing, authentication, the operation. */
export async function dispatchSoap(
  camera: OnvifCamera,
  deps: OnvifDeps,
  path: string,
  text: string,
  onClientGone: (fn: () => void) => void,
  /** HTTP Authorization header: ONVIF also allows HTTP Digest instead of a UsernameToken. */
  httpAuthorization?: string,
): Promise<SoapReply | undefined> {
  const route = routeOf(path);
  if (!route) return undefined;
  const parsed = parseSoapRequest(text);
  const fault = (version: SoapVersion, f: SoapFault): SoapReply => {
    deps.counters.soapFaults++;
    return { status: f.httpStatus, xml: envelope(version, faultBody(version, f)), version };
  };
  if ('error' in parsed) return fault('1.2', FAULTS.wellFormed(parsed.error));
  let { service, subscriptionId } = route;
  if (service === 'events' && !EVENTS[parsed.op] && SUBSCRIPTION[parsed.op]) {
    // Some clients post pull-point requests to the event service with the address in wsa:To.
    const to = childText(parsed.header, 'To') ?? '';
    const m = /\/subscription\/([0-9a-f]{1,32})$/.exec(to);
    if (m) {
      service = 'subscription';
      subscriptionId = m[1]!;
    }
  }
  const op = TABLES[service][parsed.op];
  if (!op || ((service === 'ptz' || service === 'imaging') && !camera.ptz))
    return fault(parsed.version, FAULTS.actionNotSupported(parsed.op));

  const info = camera.info();
  const faults = camera.faults();
  const hasToken = childXml(parsed.header, 'UsernameToken') !== undefined;
  if (op.open !== 'always' && (op.open !== 'soft' || hasToken || httpAuthorization)) {
    // wrongPassword: the device holds a password the client does not know.
    const password = faults.wrongPassword ? `${info.password}\u0000changed` : info.password;
    const ok = hasToken
      ? verifyUsernameToken(parsed.header, {
          username: info.username,
          password,
          deviceNowMs: camera.deviceNowMs(),
          windowSec: deps.authWindowSec,
          nonces: camera.nonces,
        }).ok
      : checkAuthorization(httpAuthorization, 'POST', info.username, password) === 'ok';
    if (!ok) {
      deps.counters.authFailures++;
      return fault(parsed.version, FAULTS.notAuthorized());
    }
  }
  const result = await op.run({
    camera,
    info,
    req: parsed,
    deps,
    nowMs: Date.now(),
    deviceNowMs: camera.deviceNowMs(),
    subscriptionId,
    onClientGone,
  });
  if (typeof result !== 'string') return fault(parsed.version, result);
  return { status: 200, xml: envelope(parsed.version, result), version: parsed.version };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class OnvifHttpServer {
  readonly #camera: OnvifCamera;
  readonly #deps: OnvifDeps;
  #server: http.Server | undefined;
  port: number;

  constructor(camera: OnvifCamera, port: number, deps: OnvifDeps) {
    this.#camera = camera;
    this.#deps = deps;
    this.port = port;
  }

  async listen(host: string): Promise<number> {
    if (!isLoopbackV4(host)) throw new Error(`refusing to bind ONVIF off loopback: ${host}`);
    const server = http.createServer(
      { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
      (req, res) => {
        this.#handle(req, res).catch((e: unknown) => {
          this.#deps.log?.(`HTTP ${this.#camera.info().code}: ${String(e)}`);
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      },
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: this.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.#server = server;
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const deps = this.#deps;
    deps.counters.httpRequests++;
    const faults = this.#camera.faults();
    if (faults.offline) {
      req.socket.destroy();
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://camera').pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const info = this.#camera.info();
    if (req.method === 'GET' && (path === '/onvif/snapshot.jpg' || path === '/onvif-http/snapshot')) {
      return this.#snapshot(req, res, faults);
    }
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>${info.model}</title><h1>${info.manufacturer} ${info.model}</h1><p>${info.code}</p>`,
      );
      return;
    }
    if (!routeOf(path)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_SOAP_BODY) {
      res.writeHead(413, { Connection: 'close' }).end();
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_SOAP_BODY) {
        res.writeHead(413, { Connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    let gone: (() => void) | undefined;
    res.on('close', () => gone?.());
    const reply = await dispatchSoap(
      this.#camera,
      deps,
      path,
      Buffer.concat(chunks).toString('utf8'),
      (fn) => {
        gone = fn;
      },
      req.headers.authorization,
    );
    if (!reply) {
      res.writeHead(404).end();
      return;
    }
    const now = this.#camera.faults();
    if (now.slowRepliesMs && now.slowRepliesMs > 0) await delay(Math.min(now.slowRepliesMs, 600_000));
    if (res.destroyed) return;
    let xml = reply.xml;
    if (now.malformedXml) xml = xml.slice(0, Math.floor(xml.length * 0.6)) + '<tt:Broken';
    res.writeHead(reply.status, {
      'Content-Type': reply.version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
      'Content-Length': Buffer.byteLength(xml),
      Server: 'App-webs/',
    });
    res.end(xml);
  }

  async #snapshot(req: http.IncomingMessage, res: http.ServerResponse, faults: SimFaults): Promise<void> {
    const info = this.#camera.info();
    const cred = checkAuthorization(req.headers.authorization, 'GET', info.username, info.password);
    if (faults.wrongPassword || cred === 'bad' || (cred === 'absent' && this.#deps.snapshotAuth === 'required')) {
      this.#deps.counters.authFailures++;
      res.writeHead(401, { 'WWW-Authenticate': digestChallenge(`IP Camera(${info.serial.slice(-5)})`) }).end();
      return;
    }
    const jpeg = await this.#deps.clips.snapshot(this.#camera.clipParams('main'));
    if (faults.slowRepliesMs && faults.slowRepliesMs > 0) await delay(Math.min(faults.slowRepliesMs, 600_000));
    if (res.destroyed) return;
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-cache' });
    res.end(jpeg);
  }
}
