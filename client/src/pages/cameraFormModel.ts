/**
 * The camera form as plain data: text fields as typed, parsed into the
 * contract's CameraPointInput, and diffed into a CameraPointPatch so that an
 * edit sends only what the technician changed (plus the version it started from).
 */
import type { CameraPointInput, CameraPointPatch, CameraPointView, CoordSystem } from '@api/contract.ts';
import type { MessageKey } from '../i18n.tsx';

export interface CameraFormState {
  name: string;
  code: string;
  networkId: string;
  orgUnitId: string;
  lon: string;
  lat: string;
  system: CoordSystem;
  address: string;
  direction: string;
  fov: string;
  onvifUrl: string;
  mainStreamUri: string;
  subStreamUri: string;
  credUsername: string;
  credPassword: string;
  clearCredentials: boolean;
  ptz: boolean;
  rtspTransport: 'auto' | 'tcp' | 'udp';
}

/** Six decimals is about 0.1 m: finer than any camera placement, and readable. */
const DEGREE_DECIMALS = 6;
const DEGREE_EPSILON = 0.5 * 10 ** -DEGREE_DECIMALS;

export function formatDegrees(value: number): string {
  return String(Number(value.toFixed(DEGREE_DECIMALS)));
}

export function formStateOf(camera: CameraPointView | null): CameraFormState {
  return {
    name: camera?.name ?? '',
    code: camera?.code ?? '',
    networkId: camera?.networkId ?? '',
    orgUnitId: camera ? String(camera.orgUnitId) : '',
    lon: camera ? formatDegrees(camera.position.lon) : '',
    lat: camera ? formatDegrees(camera.position.lat) : '',
    // Stored positions are WGS-84 whatever they were entered in.
    system: 'wgs84',
    address: camera?.address ?? '',
    direction: camera?.direction === null || camera?.direction === undefined ? '' : String(camera.direction),
    fov: camera?.fov === null || camera?.fov === undefined ? '' : String(camera.fov),
    onvifUrl: camera?.onvifUrl ?? '',
    mainStreamUri: camera?.mainStreamUri ?? '',
    subStreamUri: camera?.subStreamUri ?? '',
    credUsername: '',
    credPassword: '',
    clearCredentials: false,
    ptz: camera?.ptz ?? false,
    rtspTransport: camera?.rtspTransport ?? 'auto',
  };
}

/**
 * Error paths (as the server names them) of a point's descriptive fields and its
 * position: the fields the camera form shares with the discovery confirmation dialog.
 */
export const POINT_FIELD_PATHS = [
  'name',
  'code',
  'networkId',
  'orgUnitId',
  'position',
  'position.lon',
  'position.lat',
  'position.system',
  'address',
  'direction',
  'fov',
] as const;

/** Field path (as the server names it) → message key of a local validation error. */
export type LocalErrors = Record<string, MessageKey>;

type Parsed = { ok: true; input: CameraPointInput } | { ok: false; errors: LocalErrors };

function optionalText(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function optionalNumber(value: string, path: string, errors: LocalErrors): number | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) {
    errors[path] = 'form.invalidNumber';
    return null;
  }
  return n;
}

function requiredNumber(value: string, path: string, errors: LocalErrors): number {
  if (value.trim() === '') {
    errors[path] = 'form.required';
    return 0;
  }
  return optionalNumber(value, path, errors) ?? 0;
}

/**
 * Checks only what the browser can know (required, numeric, code shape);
 * ranges and references are the server's to judge, and its field errors are shown as they come.
 */
export function parseForm(state: CameraFormState): Parsed {
  const errors: LocalErrors = {};
  const name = state.name.trim();
  if (!name) errors['name'] = 'form.required';
  const code = optionalText(state.code);
  if (code !== null && !/^\d{20}$/.test(code)) errors['code'] = 'form.invalidCode';
  if (!state.networkId) errors['networkId'] = 'form.required';
  const orgUnitId = Number(state.orgUnitId);
  if (!state.orgUnitId || !Number.isInteger(orgUnitId)) errors['orgUnitId'] = 'form.required';
  const lon = requiredNumber(state.lon, 'position.lon', errors);
  const lat = requiredNumber(state.lat, 'position.lat', errors);
  const direction = optionalNumber(state.direction, 'direction', errors);
  const fov = optionalNumber(state.fov, 'fov', errors);

  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const input: CameraPointInput = {
    name,
    code,
    networkId: state.networkId,
    orgUnitId,
    position: { lon, lat, system: state.system },
    address: optionalText(state.address),
    direction,
    fov,
    onvifUrl: optionalText(state.onvifUrl),
    mainStreamUri: optionalText(state.mainStreamUri),
    subStreamUri: optionalText(state.subStreamUri),
    ptz: state.ptz,
    rtspTransport: state.rtspTransport,
  };
  const credentials = credentialsOf(state);
  if (credentials !== undefined) input.credentials = credentials;
  return { ok: true, input };
}

/** undefined: keep what is stored; null: clear it; an object: replace it. */
function credentialsOf(state: CameraFormState): CameraPointInput['credentials'] {
  if (state.clearCredentials) return null;
  if (state.credUsername.trim() === '' && state.credPassword === '') return undefined;
  return { username: state.credUsername.trim(), password: state.credPassword };
}

/** For a new point, empty optional fields are simply left out. */
export function createBody(input: CameraPointInput): CameraPointInput {
  const body: CameraPointInput = {
    name: input.name,
    networkId: input.networkId,
    orgUnitId: input.orgUnitId,
    position: input.position,
    ptz: input.ptz ?? false,
  };
  if (input.code != null) body.code = input.code;
  if (input.address != null) body.address = input.address;
  if (input.direction != null) body.direction = input.direction;
  if (input.fov != null) body.fov = input.fov;
  if (input.onvifUrl != null) body.onvifUrl = input.onvifUrl;
  if (input.mainStreamUri != null) body.mainStreamUri = input.mainStreamUri;
  if (input.subStreamUri != null) body.subStreamUri = input.subStreamUri;
  if (input.credentials) body.credentials = input.credentials;
  if (input.rtspTransport && input.rtspTransport !== 'auto') body.rtspTransport = input.rtspTransport;
  return body;
}

/** Only the fields that differ from the point as loaded, plus its version; null when nothing changed. */
export function patchBody(before: CameraPointView, next: CameraPointInput): CameraPointPatch | null {
  const patch: CameraPointPatch = {};
  if (next.name !== before.name) patch.name = next.name;
  if ((next.code ?? null) !== before.code) patch.code = next.code ?? null;
  if (next.networkId !== before.networkId) patch.networkId = next.networkId;
  if (next.orgUnitId !== before.orgUnitId) patch.orgUnitId = next.orgUnitId;
  // The form shows rounded degrees: an untouched position must not count as a change.
  if (
    Math.abs(next.position.lon - before.position.lon) > DEGREE_EPSILON ||
    Math.abs(next.position.lat - before.position.lat) > DEGREE_EPSILON ||
    (next.position.system ?? 'wgs84') !== 'wgs84'
  ) {
    patch.position = next.position;
  }
  if ((next.address ?? null) !== before.address) patch.address = next.address ?? null;
  if ((next.direction ?? null) !== before.direction) patch.direction = next.direction ?? null;
  if ((next.fov ?? null) !== before.fov) patch.fov = next.fov ?? null;
  if ((next.onvifUrl ?? null) !== before.onvifUrl) patch.onvifUrl = next.onvifUrl ?? null;
  if ((next.mainStreamUri ?? null) !== before.mainStreamUri) patch.mainStreamUri = next.mainStreamUri ?? null;
  if ((next.subStreamUri ?? null) !== before.subStreamUri) patch.subStreamUri = next.subStreamUri ?? null;
  if ((next.ptz ?? false) !== before.ptz) patch.ptz = next.ptz ?? false;
  if ((next.rtspTransport ?? 'auto') !== before.rtspTransport) patch.rtspTransport = next.rtspTransport ?? 'auto';
  if (next.credentials !== undefined) patch.credentials = next.credentials;
  if (Object.keys(patch).length === 0) return null;
  patch.version = before.version;
  return patch;
}
