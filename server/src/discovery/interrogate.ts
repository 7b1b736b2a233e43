import type { DeviceStatus, ScanCredentials } from '../api/contract.ts';
import type { DiscoveredDevice } from './repo.ts';
import { deviceText, deviceUri } from '../http/text.ts';
import { OnvifError, createOnvifClient } from '../protocols/onvif/client.ts';
import { pickStreams } from '../protocols/onvif/profiles.ts';
import { checkStreamHosts, type MediaUris } from './stream-hosts.ts';

/** What one device told us; the fields it shares with a stored device keep their meaning. */
export type Interrogation = Pick<
  DiscoveredDevice,
  | 'reason'
  | 'manufacturer'
  | 'model'
  | 'firmware'
  | 'serial'
  | 'mac'
  | 'profiles'
  | 'mainStreamUri'
  | 'subStreamUri'
  | 'snapshotUri'
  | 'ptz'
  | 'clockOffsetMs'
> & {
  status: Exclude<DeviceStatus, 'registered' | 'confirmed'>;
  /** The credentials that worked. */
  credentials: ScanCredentials | null;
  /** Media addresses as the device reported them, when their host was not the one that answered (issue 12). */
  reportedUris?: MediaUris | null;
};

const EMPTY: Omit<Interrogation, 'status' | 'reason'> = {
  manufacturer: null,
  model: null,
  firmware: null,
  serial: null,
  mac: null,
  profiles: [],
  mainStreamUri: null,
  subStreamUri: null,
  snapshotUri: null,
  ptz: false,
  clockOffsetMs: null,
  credentials: null,
};

/**
 * Caps for what a device says about itself (issue 11: a 300,000-character manufacturer with
 * U+202E, BEL and ESC was copied into a point). Generous for real devices: the longest
 * manufacturer, model and firmware strings in our fixtures are under 40 characters.
 */
export const DEVICE_TEXT_MAX = {
  identity: 64,
  profileName: 64,
  token: 64,
  encoding: 16,
  reason: 300,
  endpoint: 200,
} as const;

/** Manufacturer and model as a device advertises them in WS-Discovery scopes. */
export function fromScopes(scopes: string[]): { manufacturer: string | null; model: string | null } {
  const get = (kind: string) => {
    const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${kind}/`));
    if (!s) return null;
    const last = s.split('/').pop() ?? '';
    let decoded: string;
    try {
      decoded = decodeURIComponent(last);
    } catch {
      // A broken %-escape is the device's problem; it must not fail the whole scan.
      decoded = last;
    }
    return deviceText(decoded, DEVICE_TEXT_MAX.identity);
  };
  return { manufacturer: get('name'), model: get('hardware') };
}

const size = (n: number | null) => (n !== null && Number.isInteger(n) && n > 0 && n <= 100_000 ? n : null);
const rate = (n: number | null) => (n !== null && n > 0 && n <= 1000 ? n : null);

/**
 * Everything a device reply put into an interrogation, through the text policy: a reply cannot be
 * refused field by field, so forbidden characters are stripped and each field is cut to its cap.
 * URIs that do not survive re-parsing are dropped.
 */
export function boundInterrogation(r: Interrogation): Interrogation {
  const t = (s: string | null, max: number) => deviceText(s, max);
  return {
    ...r,
    reason: t(r.reason, DEVICE_TEXT_MAX.reason),
    manufacturer: t(r.manufacturer, DEVICE_TEXT_MAX.identity),
    model: t(r.model, DEVICE_TEXT_MAX.identity),
    firmware: t(r.firmware, DEVICE_TEXT_MAX.identity),
    serial: t(r.serial, DEVICE_TEXT_MAX.identity),
    mac: r.mac !== null && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(r.mac) ? r.mac : null,
    profiles: r.profiles.slice(0, 32).map((p) => ({
      token: t(p.token, DEVICE_TEXT_MAX.token) ?? '',
      name: t(p.name, DEVICE_TEXT_MAX.profileName) ?? '',
      encoding: t(p.encoding, DEVICE_TEXT_MAX.encoding),
      width: size(p.width),
      height: size(p.height),
      fps: rate(p.fps),
    })),
    mainStreamUri: deviceUri(r.mainStreamUri, ['rtsp:', 'rtsps:']),
    subStreamUri: deviceUri(r.subStreamUri, ['rtsp:', 'rtsps:']),
    snapshotUri: deviceUri(r.snapshotUri, ['http:', 'https:']),
  };
}

/**
 * Reads what registration needs from one device (see `readDevice`), every field bounded and
 * cleaned by the text policy before anyone stores or shows it.
 */
export async function interrogate(
  xaddr: string,
  credentials: ScanCredentials[],
  opts: { timeoutMs: number; signal?: AbortSignal; scopes?: string[]; rebaseStreamHosts?: boolean },
): Promise<Interrogation> {
  const r = boundInterrogation(await readDevice(xaddr, credentials, opts));
  // Media addresses on another host than the one that answered (NAT, port forwarding): rebased like XAddrs.
  const hosts = checkStreamHosts(r, xaddr, opts.rebaseStreamHosts ?? true);
  if (!hosts.note) return r;
  return {
    ...r,
    ...hosts.uris,
    reportedUris: hosts.reported,
    reason: r.reason ? `${r.reason}; ${hosts.note}` : hosts.note,
  };
}

/**
 * Reads what registration needs from one device: its clock (to compensate
 * skew in every digest), identity, MAC, profiles, stream and snapshot URIs,
 * PTZ capability. Tries each credential in order. Never throws: failures
 * become a status with a reason.
 */
async function readDevice(
  xaddr: string,
  credentials: ScanCredentials[],
  opts: { timeoutMs: number; signal?: AbortSignal; scopes?: string[] },
): Promise<Interrogation> {
  const hinted = fromScopes(opts.scopes ?? []);
  const base = { ...EMPTY, manufacturer: hinted.manufacturer, model: hinted.model };
  const fail = (
    status: Interrogation['status'],
    reason: string,
    extra: Partial<Interrogation> = {},
  ): Interrogation => ({ ...base, ...extra, status, reason });
  const probe = createOnvifClient({
    xaddr,
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    await probe.getSystemDateAndTime();
  } catch (err) {
    if (err instanceof OnvifError) {
      if (err.kind === 'unreachable' || err.kind === 'timeout') return fail('unreachable', err.message);
      if (err.kind === 'not_onvif') return fail('not_onvif', err.message);
      // Some devices demand auth even for the clock; carry on without a calibration.
      if (err.kind !== 'auth') return fail(err.kind === 'malformed' ? 'error' : 'not_onvif', err.message);
    } else return fail('error', String(err));
  }
  const clockOffsetMs = probe.clockOffsetMs;
  let lastAuthError = 'no credentials given';
  for (const cred of credentials.length ? credentials : [{ username: '', password: '' }]) {
    const c = createOnvifClient({
      xaddr,
      credentials: cred.username ? cred : null,
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      await c.getSystemDateAndTime().catch(() => undefined);
      const info = await c.getDeviceInformation();
      const out: Interrogation = {
        ...base,
        status: 'new',
        reason: null,
        manufacturer: deviceText(info.manufacturer, DEVICE_TEXT_MAX.identity) ?? base.manufacturer,
        model: deviceText(info.model, DEVICE_TEXT_MAX.identity) ?? base.model,
        firmware: info.firmware || null,
        serial: info.serial || null,
        clockOffsetMs: c.clockOffsetMs,
        credentials: cred.username ? cred : null,
      };
      const notes: string[] = [];
      try {
        out.mac = (await c.getNetworkInterfaces()).mac;
      } catch (e) {
        notes.push(`MAC unknown (${(e as Error).message.slice(0, 80)})`);
      }
      const caps = await c.getCapabilities();
      const profiles = await c.getProfiles();
      out.profiles = profiles.map(({ token, name, encoding, width, height, fps }) => ({
        token,
        name,
        encoding,
        width,
        height,
        fps,
      }));
      out.ptz = caps.ptzXAddr !== null && profiles.some((p) => p.hasPtz);
      const { main, sub } = pickStreams(profiles);
      if (main) out.mainStreamUri = await c.getStreamUri(main.token);
      if (sub) out.subStreamUri = await c.getStreamUri(sub.token);
      if (main) {
        try {
          out.snapshotUri = await c.getSnapshotUri(main.token);
        } catch (e) {
          notes.push(`no snapshot URI (${(e as Error).message.slice(0, 80)})`);
        }
      }
      if (!main) notes.push('no video profile');
      out.reason = notes.length ? notes.join('; ') : null;
      return out;
    } catch (err) {
      if (err instanceof OnvifError && err.kind === 'auth') {
        lastAuthError = err.message;
        continue;
      }
      const kind = err instanceof OnvifError ? err.kind : 'error';
      return fail(
        kind === 'unreachable' || kind === 'timeout' ? 'unreachable' : kind === 'not_onvif' ? 'not_onvif' : 'error',
        (err as Error).message,
        { clockOffsetMs },
      );
    }
  }
  return fail('auth_failed', lastAuthError, { clockOffsetMs });
}
