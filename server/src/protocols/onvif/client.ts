/**
 * A small ONVIF client for discovery and health: only the operations the
 * platform needs, every reply treated as hostile (size and time caps, no
 * DTDs), authentication that follows the device's own clock.
 */
import { DeviceNetworkError, postXml } from '../http-post.ts';
import { XmlError, at, attr, escapeXml, list, parseXml, text, type XmlNode, type XmlObject } from '../xml.ts';
import { parseNotifications, type OnvifEvent } from './events.ts';
import { NS, envelope, securityHeader } from './soap.ts';

export type OnvifErrorKind = 'auth' | 'fault' | 'not_onvif' | 'malformed' | 'unreachable' | 'timeout';

/**
 * Text a device put into a message (a fault reason, a content type): without control or bidi
 * formatting characters or unpaired surrogates, and bounded. Error messages end up in scan results
 * and a point's status reason, in front of operators. The application's text policy
 * (server/src/http/text.ts) goes further on stored fields; protocol code does not import it.
 */
export function deviceSaid(s: string, max = 300): string {
  return s
    .slice(0, max * 2)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .slice(0, max)
    .replace(/[\ud800-\udbff]$/, '');
}

export class OnvifError extends Error {
  readonly kind: OnvifErrorKind;
  constructor(kind: OnvifErrorKind, message: string) {
    super(deviceSaid(message));
    this.kind = kind;
  }
}

export interface OnvifCredentials {
  username: string;
  password: string;
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

export interface MediaProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  hasPtz: boolean;
  /** The video source the profile shows (imaging calls, focus and iris, address it). */
  videoSourceToken: string | null;
}

export interface Capabilities {
  mediaXAddr: string | null;
  ptzXAddr: string | null;
  eventsXAddr: string | null;
  imagingXAddr: string | null;
}

export interface PtzPreset {
  token: string;
  name: string;
}

export interface PtzVelocity {
  /** -1 … 1 in the generic velocity spaces. */
  pan: number;
  tilt: number;
  zoom: number;
}

export interface OnvifClientOptions {
  /** Device service URL, e.g. http://10.1.2.3/onvif/device_service */
  xaddr: string;
  credentials?: OnvifCredentials | null;
  timeoutMs?: number;
  maxBytes?: number;
  now?: () => Date;
  signal?: AbortSignal;
}

/** Keeps host and port we reached the device at: devices behind NAT report internal addresses. */
export function rebaseXAddr(reported: string, reachedAt: string): string {
  try {
    const r = new URL(reported);
    const d = new URL(reachedAt);
    r.protocol = d.protocol;
    r.host = d.host;
    return r.toString();
  } catch {
    return reachedAt;
  }
}

const num = (n: XmlNode | undefined) => {
  const t = text(n);
  const v = t === undefined ? NaN : Number(t);
  return Number.isFinite(v) ? v : null;
};

export function createOnvifClient(opts: OnvifClientOptions) {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxBytes ?? 512 * 1024;
  const now = opts.now ?? (() => new Date());
  /** Device clock minus ours, learnt from GetSystemDateAndTime. */
  let clockOffsetMs = 0;
  let capabilities: Capabilities | null = null;

  async function call(
    url: string,
    body: string,
    auth: boolean,
    extra: { headers?: string; timeoutMs?: number } = {},
  ): Promise<XmlObject> {
    const security =
      auth && opts.credentials
        ? securityHeader(
            opts.credentials.username,
            opts.credentials.password,
            new Date(now().getTime() + clockOffsetMs),
          )
        : undefined;
    let res;
    try {
      res = await postXml(url, envelope(body, (security ?? '') + (extra.headers ?? '')), {
        timeoutMs: extra.timeoutMs ?? timeoutMs,
        maxBytes,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (err instanceof DeviceNetworkError) {
        if (err.kind === 'timeout') throw new OnvifError('timeout', err.message);
        if (err.kind === 'too_large') throw new OnvifError('malformed', err.message);
        throw new OnvifError('unreachable', err.message);
      }
      throw err;
    }
    if (res.status === 401) throw new OnvifError('auth', 'HTTP 401 from device');
    const type = String(res.headers['content-type'] ?? '');
    if (res.status === 404 || (!/xml/i.test(type) && !res.body.trimStart().startsWith('<'))) {
      throw new OnvifError('not_onvif', `HTTP ${res.status} ${type || 'without content type'}: not an ONVIF service`);
    }
    let doc: XmlObject;
    try {
      doc = parseXml(res.body, maxBytes);
    } catch (err) {
      if (err instanceof XmlError) throw new OnvifError('malformed', err.message);
      throw err;
    }
    const env = at(doc, 'Envelope');
    if (!env) throw new OnvifError('not_onvif', 'reply is XML but not a SOAP envelope');
    const fault = at(env, 'Body', 'Fault');
    if (fault !== undefined) {
      const codes = [
        text(at(fault, 'Code', 'Value')),
        text(at(fault, 'Code', 'Subcode', 'Value')),
        text(at(fault, 'Code', 'Subcode', 'Subcode', 'Value')),
        text(at(fault, 'faultcode')),
      ]
        .filter((c): c is string => !!c)
        .join(' ');
      const reason = text(at(fault, 'Reason', 'Text')) ?? text(at(fault, 'faultstring')) ?? 'SOAP fault';
      if (/NotAuthorized|FailedAuthentication|InvalidSecurity|Sender.*auth/i.test(codes + ' ' + reason))
        throw new OnvifError('auth', `not authorised: ${reason}`);
      throw new OnvifError('fault', `${codes || 'fault'}: ${reason}`.slice(0, 300));
    }
    if (res.status >= 400) throw new OnvifError('fault', `HTTP ${res.status}`);
    const bodyNode = at(env, 'Body');
    if (!bodyNode || typeof bodyNode !== 'object' || Array.isArray(bodyNode))
      throw new OnvifError('malformed', 'empty SOAP body');
    return bodyNode;
  }

  const need = <T>(v: T | undefined | null, what: string): T => {
    if (v === undefined || v === null || v === '') throw new OnvifError('malformed', `reply lacks ${what}`);
    return v;
  };

  const client = {
    get clockOffsetMs() {
      return clockOffsetMs;
    },

    /** One authenticated SOAP call to a service of this device (Profile G's calls live in profile-g.ts). */
    callService: (url: string, body: string): Promise<XmlObject> => call(url, body, true),

    /** GetServices: each ONVIF service's namespace and address (rebased to the host we reached). */
    async getServices(): Promise<Map<string, string>> {
      const b = await call(
        opts.xaddr,
        '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>',
        true,
      );
      const out = new Map<string, string>();
      for (const svc of list(at(b, 'GetServicesResponse', 'Service')).slice(0, 64)) {
        const ns = text(at(svc, 'Namespace'));
        const x = text(at(svc, 'XAddr'));
        if (ns && x && ns.length < 200) out.set(ns, rebaseXAddr(x, opts.xaddr));
      }
      return out;
    },

    /** Unauthenticated on every conformant device; also calibrates the clock for digests. */
    async getSystemDateAndTime(): Promise<Date> {
      const sentAt = now().getTime();
      const b = await call(opts.xaddr, '<tds:GetSystemDateAndTime/>', false);
      const utc = at(b, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime');
      const y = num(at(utc, 'Date', 'Year'));
      const mo = num(at(utc, 'Date', 'Month'));
      const d = num(at(utc, 'Date', 'Day'));
      const h = num(at(utc, 'Time', 'Hour'));
      const mi = num(at(utc, 'Time', 'Minute'));
      const s = num(at(utc, 'Time', 'Second'));
      if ([y, mo, d, h, mi, s].some((v) => v === null)) throw new OnvifError('malformed', 'reply lacks UTCDateTime');
      const device = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
      if (!Number.isFinite(device)) throw new OnvifError('malformed', 'invalid device time');
      const receivedAt = now().getTime();
      clockOffsetMs = clockOffsetFrom(device, sentAt, receivedAt);
      return new Date(device);
    },

    async getDeviceInformation(): Promise<DeviceInformation> {
      const b = await call(opts.xaddr, '<tds:GetDeviceInformation/>', true);
      const r = at(b, 'GetDeviceInformationResponse');
      if (r === undefined) throw new OnvifError('malformed', 'reply lacks GetDeviceInformationResponse');
      return {
        // Bounded here for every caller; a real device's strings are tens of characters.
        manufacturer: deviceSaid(text(at(r, 'Manufacturer')) ?? '', 256),
        model: deviceSaid(text(at(r, 'Model')) ?? '', 256),
        firmware: deviceSaid(text(at(r, 'FirmwareVersion')) ?? '', 256),
        serial: deviceSaid(text(at(r, 'SerialNumber')) ?? '', 256),
        hardwareId: deviceSaid(text(at(r, 'HardwareId')) ?? '', 256),
      };
    },

    async getCapabilities(): Promise<Capabilities> {
      const b = await call(
        opts.xaddr,
        '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
        true,
      );
      const c = at(b, 'GetCapabilitiesResponse', 'Capabilities');
      const x = (svc: string) => {
        const v = text(at(c, svc, 'XAddr'));
        return v ? rebaseXAddr(v, opts.xaddr) : null;
      };
      capabilities = {
        mediaXAddr: x('Media'),
        ptzXAddr: x('PTZ'),
        eventsXAddr: x('Events'),
        imagingXAddr: x('Imaging'),
      };
      return capabilities;
    },

    async getNetworkInterfaces(): Promise<{ mac: string | null }> {
      const b = await call(opts.xaddr, '<tds:GetNetworkInterfaces/>', true);
      for (const ni of list(at(b, 'GetNetworkInterfacesResponse', 'NetworkInterfaces'))) {
        const mac = text(at(ni, 'Info', 'HwAddress'));
        if (mac && /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(mac)) return { mac: mac.toLowerCase().replace(/-/g, ':') };
      }
      return { mac: null };
    },

    async getProfiles(): Promise<MediaProfile[]> {
      const media = need((capabilities ?? (await client.getCapabilities())).mediaXAddr, 'a media service');
      const b = await call(media, '<trt:GetProfiles/>', true);
      return list(at(b, 'GetProfilesResponse', 'Profiles'))
        .slice(0, 32)
        .map((p) => {
          const vec = at(p, 'VideoEncoderConfiguration');
          return {
            token: need(attr(p, 'token'), 'a profile token'),
            name: deviceSaid(text(at(p, 'Name')) ?? '', 256),
            encoding: text(at(vec, 'Encoding')) ?? null,
            width: num(at(vec, 'Resolution', 'Width')),
            height: num(at(vec, 'Resolution', 'Height')),
            fps: num(at(vec, 'RateControl', 'FrameRateLimit')),
            hasPtz: at(p, 'PTZConfiguration') !== undefined,
            videoSourceToken: (() => {
              const t = text(at(p, 'VideoSourceConfiguration', 'SourceToken'));
              return t && /^[\w.:-]{1,64}$/.test(t) ? t : null;
            })(),
          };
        });
    },

    async getStreamUri(profileToken: string): Promise<string> {
      const media = need((capabilities ?? (await client.getCapabilities())).mediaXAddr, 'a media service');
      const b = await call(
        media,
        `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>${escapeToken(profileToken)}</trt:ProfileToken></trt:GetStreamUri>`,
        true,
      );
      return checkUri(need(text(at(b, 'GetStreamUriResponse', 'MediaUri', 'Uri')), 'a stream URI'), [
        'rtsp:',
        'rtsps:',
      ]);
    },

    /**
     * Media (ver10) SetSynchronizationPoint: the device inserts an IDR in the profile's stream as soon as it can
     * (Profile S asks every device to support it). A new viewer then waits for no keyframe.
     */
    async setSynchronizationPoint(profileToken: string, timeoutMs?: number): Promise<void> {
      const media = need((capabilities ?? (await client.getCapabilities())).mediaXAddr, 'a media service');
      const b = await call(
        media,
        `<trt:SetSynchronizationPoint><trt:ProfileToken>${escapeToken(profileToken)}</trt:ProfileToken></trt:SetSynchronizationPoint>`,
        true,
        timeoutMs ? { timeoutMs } : {},
      );
      if (at(b, 'SetSynchronizationPointResponse') === undefined) {
        throw new OnvifError('malformed', 'reply lacks SetSynchronizationPointResponse');
      }
    },

    /** PTZ (ONVIF PTZ service ver20): continuous move for `timeoutSec` or until Stop. */
    async continuousMove(profileToken: string, v: PtzVelocity, timeoutSec = 2): Promise<void> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      const clamp = (n: number) => Math.max(-1, Math.min(1, n)).toFixed(3);
      await call(
        ptz,
        `<tptz:ContinuousMove><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken><tptz:Velocity>` +
          `<tt:PanTilt x="${clamp(v.pan)}" y="${clamp(v.tilt)}"/><tt:Zoom x="${clamp(v.zoom)}"/></tptz:Velocity>` +
          `<tptz:Timeout>PT${Math.max(1, Math.min(60, Math.round(timeoutSec)))}S</tptz:Timeout></tptz:ContinuousMove>`,
        true,
      );
    },

    async stop(profileToken: string): Promise<void> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      await call(
        ptz,
        `<tptz:Stop><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken><tptz:PanTilt>true</tptz:PanTilt><tptz:Zoom>true</tptz:Zoom></tptz:Stop>`,
        true,
      );
    },

    async getPresets(profileToken: string): Promise<PtzPreset[]> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      const b = await call(
        ptz,
        `<tptz:GetPresets><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken></tptz:GetPresets>`,
        true,
      );
      return list(at(b, 'GetPresetsResponse', 'Preset'))
        .slice(0, 256)
        .map((p) => ({ token: attr(p, 'token') ?? '', name: deviceSaid(text(at(p, 'Name')) ?? '', 64).trim() }))
        .filter((p) => /^[\w.:-]{1,64}$/.test(p.token));
    },

    async gotoPreset(profileToken: string, presetToken: string): Promise<void> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      await call(
        ptz,
        `<tptz:GotoPreset><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken><tptz:PresetToken>${escapeToken(presetToken)}</tptz:PresetToken></tptz:GotoPreset>`,
        true,
      );
    },

    /** PTZ SetPreset: stores where the dome looks now under `name`; returns the device's token. */
    async setPreset(profileToken: string, name: string): Promise<string> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      const b = await call(
        ptz,
        `<tptz:SetPreset><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken><tptz:PresetName>${escapeXml(name)}</tptz:PresetName></tptz:SetPreset>`,
        true,
      );
      const token = text(at(b, 'SetPresetResponse', 'PresetToken'));
      if (!token || !/^[\w.:-]{1,64}$/.test(token)) throw new OnvifError('malformed', 'reply lacks a preset token');
      return token;
    },

    async removePreset(profileToken: string, presetToken: string): Promise<void> {
      const ptz = need((capabilities ?? (await client.getCapabilities())).ptzXAddr, 'a PTZ service');
      await call(
        ptz,
        `<tptz:RemovePreset><tptz:ProfileToken>${escapeToken(profileToken)}</tptz:ProfileToken><tptz:PresetToken>${escapeToken(presetToken)}</tptz:PresetToken></tptz:RemovePreset>`,
        true,
      );
    },

    /** Imaging (ver20) Move: continuous focus, speed -1 (near) … 1 (far), until Stop. */
    async focusMove(videoSourceToken: string, speed: number): Promise<void> {
      const imaging = need((capabilities ?? (await client.getCapabilities())).imagingXAddr, 'an imaging service');
      const v = Math.max(-1, Math.min(1, speed)).toFixed(3);
      await call(
        imaging,
        `<timg:Move><timg:VideoSourceToken>${escapeToken(videoSourceToken)}</timg:VideoSourceToken><timg:Focus><tt:Continuous><tt:Speed>${v}</tt:Speed></tt:Continuous></timg:Focus></timg:Move>`,
        true,
      );
    },

    async focusStop(videoSourceToken: string): Promise<void> {
      const imaging = need((capabilities ?? (await client.getCapabilities())).imagingXAddr, 'an imaging service');
      await call(
        imaging,
        `<timg:Stop><timg:VideoSourceToken>${escapeToken(videoSourceToken)}</timg:VideoSourceToken></timg:Stop>`,
        true,
      );
    },

    /** Imaging GetImagingSettings: the iris (aperture, in dB; 0 is fully open) when the device says it. */
    async getIris(videoSourceToken: string): Promise<number | null> {
      const imaging = need((capabilities ?? (await client.getCapabilities())).imagingXAddr, 'an imaging service');
      const b = await call(
        imaging,
        `<timg:GetImagingSettings><timg:VideoSourceToken>${escapeToken(videoSourceToken)}</timg:VideoSourceToken></timg:GetImagingSettings>`,
        true,
      );
      return num(at(b, 'GetImagingSettingsResponse', 'ImagingSettings', 'Exposure', 'Iris'));
    },

    /** Imaging SetImagingSettings: manual exposure with this iris (dB, 0 fully open, negative closes). */
    async setIris(videoSourceToken: string, iris: number): Promise<void> {
      const imaging = need((capabilities ?? (await client.getCapabilities())).imagingXAddr, 'an imaging service');
      await call(
        imaging,
        `<timg:SetImagingSettings><timg:VideoSourceToken>${escapeToken(videoSourceToken)}</timg:VideoSourceToken><timg:ImagingSettings><tt:Exposure><tt:Mode>MANUAL</tt:Mode><tt:Iris>${iris.toFixed(1)}</tt:Iris></tt:Exposure></timg:ImagingSettings><timg:ForcePersistence>false</timg:ForcePersistence></timg:SetImagingSettings>`,
        true,
      );
    },

    /**
     * Events (ONVIF Core 9.1, pull point): the subscription lives at the
     * address the device returns, on the host we reached it at.
     */
    async createPullPointSubscription(terminationSec: number): Promise<PullPointSubscription> {
      const events = need((capabilities ?? (await client.getCapabilities())).eventsXAddr, 'an events service');
      const b = await call(
        events,
        `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>${isoDuration(terminationSec)}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
        true,
      );
      const r = at(b, 'CreatePullPointSubscriptionResponse');
      const address = need(text(at(r, 'SubscriptionReference', 'Address')), 'a subscription address');
      return {
        address: checkUri(rebaseXAddr(address, events), ['http:', 'https:']),
        terminationTime: deviceTime(text(at(r, 'TerminationTime'))),
      };
    },

    /**
     * Long-polls for up to `timeoutSec`; the HTTP wait is that plus the
     * usual margin, since a conformant device answers when the time is up.
     */
    async pullMessages(subscription: string, timeoutSec: number, messageLimit: number): Promise<PullResult> {
      const t = Math.max(1, Math.min(60, Math.round(timeoutSec)));
      const limit = Math.max(1, Math.min(1024, Math.round(messageLimit)));
      const b = await call(
        subscription,
        `<tev:PullMessages><tev:Timeout>PT${t}S</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
        true,
        {
          headers: wsaTo(subscription, `${NS.tev}/PullPointSubscription/PullMessagesRequest`),
          timeoutMs: t * 1000 + timeoutMs,
        },
      );
      const r = at(b, 'PullMessagesResponse');
      if (r === undefined) throw new OnvifError('malformed', 'reply lacks PullMessagesResponse');
      return {
        events: parseNotifications(r, messageLimit),
        terminationTime: deviceTime(text(at(r, 'TerminationTime'))),
      };
    },

    async renew(subscription: string, terminationSec: number): Promise<Date | null> {
      const b = await call(
        subscription,
        `<wsnt:Renew xmlns:wsnt="${NS.wsnt}"><wsnt:TerminationTime>${isoDuration(terminationSec)}</wsnt:TerminationTime></wsnt:Renew>`,
        true,
        { headers: wsaTo(subscription, `${NS.wsnt}/SubscriptionManager/RenewRequest`) },
      );
      return deviceTime(text(at(b, 'RenewResponse', 'TerminationTime')));
    },

    async unsubscribe(subscription: string): Promise<void> {
      await call(subscription, `<wsnt:Unsubscribe xmlns:wsnt="${NS.wsnt}"/>`, true, {
        headers: wsaTo(subscription, `${NS.wsnt}/SubscriptionManager/UnsubscribeRequest`),
      });
    },

    async getSnapshotUri(profileToken: string): Promise<string> {
      const media = need((capabilities ?? (await client.getCapabilities())).mediaXAddr, 'a media service');
      const b = await call(
        media,
        `<trt:GetSnapshotUri><trt:ProfileToken>${escapeToken(profileToken)}</trt:ProfileToken></trt:GetSnapshotUri>`,
        true,
      );
      return checkUri(need(text(at(b, 'GetSnapshotUriResponse', 'MediaUri', 'Uri')), 'a snapshot URI'), [
        'http:',
        'https:',
      ]);
    },
  };
  return client;
}

export type OnvifClient = ReturnType<typeof createOnvifClient>;

export interface PullPointSubscription {
  /** Where PullMessages, Renew and Unsubscribe go. */
  address: string;
  /** On the device's clock; null when the device does not say. */
  terminationTime: Date | null;
}

export interface PullResult {
  events: OnvifEvent[];
  terminationTime: Date | null;
}

const isoDuration = (sec: number) => `PT${Math.max(10, Math.min(86_400, Math.round(sec)))}S`;

function deviceTime(t: string | undefined): Date | null {
  if (!t || t.length > 64) return null;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** WS-Addressing: some devices route subscription calls by wsa:To rather than by URL. */
function wsaTo(address: string, action: string): string {
  return `<wsa:Action xmlns:wsa="${NS.wsa}">${escapeXml(action)}</wsa:Action><wsa:To xmlns:wsa="${NS.wsa}">${escapeXml(address)}</wsa:To>`;
}

function escapeToken(t: string): string {
  if (!/^[\w.:-]{1,64}$/.test(t)) throw new OnvifError('malformed', 'profile token has unexpected characters');
  return t;
}

/** A URI from a device becomes a stream address later: check it strictly. */
function checkUri(uri: string, schemes: string[]): string {
  if (uri.length > 2048 || /[\s\u0000-\u001f]/.test(uri))
    throw new OnvifError('malformed', 'device returned an unusable URI');
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new OnvifError('malformed', 'device returned an unparseable URI');
  }
  if (!schemes.includes(u.protocol)) throw new OnvifError('malformed', `device returned a ${u.protocol} URI`);
  return u.toString();
}

/**
 * The device clock's offset from ours, from one GetSystemDateAndTime exchange. The device reports whole
 * seconds (truncated), read at some moment between our send and receive. When that second is one our own
 * clock showed during the exchange, the clocks agree as far as the reply can tell and the offset is 0 (an
 * NTP-synchronised camera); otherwise the estimate is the middle of the reported second against the middle
 * of the exchange — unbiased, where `second − midpoint` would be up to a second early, or late by half a
 * slow round trip (which moved a replay's start past the asked keyframe under load).
 */
export function clockOffsetFrom(deviceSecondMs: number, sentAtMs: number, receivedAtMs: number): number {
  const first = Math.floor(sentAtMs / 1000) * 1000;
  const last = Math.floor(receivedAtMs / 1000) * 1000;
  if (deviceSecondMs >= first && deviceSecondMs <= last) return 0;
  return deviceSecondMs + 500 - (sentAtMs + receivedAtMs) / 2;
}
