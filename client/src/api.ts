/**
 * The one place the client talks HTTP to the platform. Every request goes to
 * the same origin under /api/v1 with the session cookie; nothing else is ever
 * fetched from here.
 */
import type {
  AlertHistoryEntry,
  AlertView,
  ApiErrorBody,
  AuditEntry,
  CameraPointInput,
  CameraPointPatch,
  CameraPointView,
  CameraSearchQuery,
  ConfirmDeviceRequest,
  DiscoveredDeviceView,
  FieldError,
  ImportReport,
  LoginRequest,
  LoginResponse,
  MapConfig,
  NetworkView,
  OnlineRateReport,
  OrgUnitView,
  Page,
  PtzCommand,
  PtzPresetView,
  ScanRequest,
  ScanView,
  SessionEndReason,
  SessionUser,
  StreamRequest,
  StreamTicket,
} from '@api/contract.ts';

export const API_BASE = '/api/v1';

/** The alert actions the server offers (POST /alerts/:id/<action>). */
export type AlertAction = 'ack' | 'false-alarm' | 'close';

/** An HTTP failure, with the server's stable error code and field errors when it sent them. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  /** Seconds from the Retry-After header (429), when present. */
  readonly retryAfterSeconds: number | null;
  /** The message as a code the console translates (serverMessages.ts), when the server sent one. */
  readonly messageCode: string | undefined;
  readonly params: Record<string, string | number> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    fields: FieldError[] = [],
    retryAfterSeconds: number | null = null,
    coded: { messageCode?: string; params?: Record<string, string | number> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
    this.messageCode = coded.messageCode;
    this.params = coded.params;
  }
}

/** status 0: the request never got an HTTP answer (server down, network cut). */
export const NETWORK_ERROR_STATUS = 0;

/** Why the session is gone, when the server said so (the socket's `session:ended`); undefined after a plain 401. */
type UnauthorizedListener = (reason?: SessionEndReason) => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever an authenticated request answers 401, i.e. the session is gone. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** The server said the session ended (the socket's `session:ended`): the same as a 401. */
export function signalSessionEnded(reason: SessionEndReason): void {
  for (const listener of unauthorizedListeners) listener(reason);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFieldError(value: unknown): value is FieldError {
  return isRecord(value) && typeof value['path'] === 'string' && typeof value['message'] === 'string';
}

export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (!isRecord(value)) return false;
  const error = value['error'];
  if (!isRecord(error)) return false;
  const fields = error['fields'];
  return (
    typeof error['code'] === 'string' &&
    typeof error['message'] === 'string' &&
    (fields === undefined || (Array.isArray(fields) && fields.every(isFieldError)))
  );
}

function isStreamTicket(value: unknown): value is StreamTicket {
  return (
    isRecord(value) &&
    typeof value['playlistUrl'] === 'string' &&
    typeof value['expiresAt'] === 'string' &&
    (value['quality'] === 'main' || value['quality'] === 'sub')
  );
}

function isImportReport(value: unknown): value is ImportReport {
  return (
    isRecord(value) &&
    typeof value['ok'] === 'boolean' &&
    typeof value['rows'] === 'number' &&
    typeof value['created'] === 'number' &&
    typeof value['encoding'] === 'string' &&
    Array.isArray(value['errors'])
  );
}

function parseRetryAfter(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function parseJsonText(text: string): unknown {
  if (text === '') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed;
  } catch {
    return null;
  }
}

function errorFrom(res: Response, body: unknown): ApiError {
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  if (isApiErrorBody(body)) {
    return new ApiError(res.status, body.error.code, body.error.message, body.error.fields ?? [], retryAfter, {
      ...(body.error.messageCode ? { messageCode: body.error.messageCode } : {}),
      ...(body.error.params ? { params: body.error.params } : {}),
    });
  }
  return new ApiError(res.status, `http_${res.status}`, res.statusText || `HTTP ${res.status}`, [], retryAfter);
}

interface SendOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  json?: unknown;
  body?: Blob | ArrayBuffer;
  contentType?: string;
  signal?: AbortSignal;
  /** Login and session probing expect 401 and must not trigger the global sign-out. */
  expectUnauthorized?: boolean;
}

/**
 * A session that belongs to this window only (a kiosk window opened from an
 * operator's console, see kioskWindow.ts): sent as a bearer token instead of
 * the cookie, held in memory, never stored.
 */
let windowBearer: string | null = null;

export function setWindowSession(token: string | null): void {
  windowBearer = token;
}

/** The window's own session token, for the socket and the player (null: the cookie speaks). */
export function windowSession(): string | null {
  return windowBearer;
}

/** Server time minus local time, from the last answer's Date header (ms): countdowns run on the server's clock. */
let serverOffsetMs = 0;

/** Now on the server's clock (ms since the epoch). */
export function serverNow(): number {
  return Date.now() + serverOffsetMs;
}

function noteServerTime(res: Response): void {
  const date = Date.parse(res.headers.get('Date') ?? '');
  // The Date header has one-second resolution: ignore differences below it.
  if (!Number.isNaN(date)) {
    const offset = date - Date.now();
    serverOffsetMs = Math.abs(offset) < 1500 ? 0 : offset;
  }
}

declare global {
  interface Window {
    /** GETs the wall asked for before the bundle loaded (client/boot/wall-boot.js), by API path. */
    __bootGets?: Record<string, Promise<Response>>;
  }
}

/** How long after the page opened an early answer may still be taken: later, it may be out of date. */
const BOOT_GET_MAX_AGE_MS = 5_000;

/**
 * The early answer for `path`, once. None after any other request was sent (a sign-in, a save: the early
 * answers may no longer be what the server would say), nor once the page is a few seconds old.
 */
function takeBootGet(path: string): Promise<Response> | undefined {
  const gets = typeof window === 'undefined' ? undefined : window.__bootGets;
  if (!gets) return undefined;
  const answer = gets[path];
  delete gets[path];
  return performance.now() < BOOT_GET_MAX_AGE_MS ? answer : undefined;
}

/** The early answers read before the first render (settleBootAnswers): a 2xx body by path. */
const bootBodies = new Map<string, unknown>();
/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Waits (at most `maxWaitMs`) for the early answers and reads them, so that the first render can take them
 * as they are (bootAnswer): the wall then mounts with its screen and map in its first commit instead of
 * after a render per answer (issue 15, map.first_render50k). Each answer read is put back as a copy, for the
 * request that takes it (takeBootGet). One not here in time is left as it was. True when every one was read.
 */
export async function settleBootAnswers(maxWaitMs: number): Promise<boolean> {
  const gets = typeof window === 'undefined' ? undefined : window.__bootGets;
  if (!gets) return false;
  let all = true;
  let timer: number | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = window.setTimeout(() => resolve(undefined), maxWaitMs);
  });
  await Promise.all(
    Object.entries(gets).map(async ([path, answer]) => {
      const res = await Promise.race([answer.catch(() => undefined), late]);
      if (!res) {
        all = false;
        return;
      }
      let text: string;
      try {
        text = await res.text();
      } catch {
        all = false;
        return; // the body failed: the request that takes it meets the same failure
      }
      const copy = new Response(NULL_BODY.has(res.status) ? null : text, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
      if (window.__bootGets?.[path] === answer) window.__bootGets[path] = Promise.resolve(copy);
      const body = res.ok ? parseJsonText(text) : undefined;
      if (body !== undefined) bootBodies.set(path, body);
    }),
  );
  window.clearTimeout(timer);
  return all;
}

/**
 * The early answer's body for `path` (a 2xx read by settleBootAnswers), the same object each time, under the
 * rules of takeBootGet: none once another kind of request was sent or the page is a few seconds old. The
 * caller then has what its first request would have fetched, and skips that request. (A component mounted
 * again inside those seconds is given the same answer: at most as old as takeBootGet's.)
 */
export function bootAnswer<T>(path: string): { value: T } | undefined {
  const gets = typeof window === 'undefined' ? undefined : window.__bootGets;
  if (!gets || performance.now() >= BOOT_GET_MAX_AGE_MS || !bootBodies.has(path)) return;
  // Taken here: a later request for the path asks the server, not this answer again.
  delete gets[path];
  return { value: bootBodies.get(path) as T };
}

async function send(path: string, options: SendOptions = {}): Promise<{ res: Response; body: unknown }> {
  // Anything but a GET may change what the early answers said: none of them is used after it.
  if ((options.method ?? 'GET') !== 'GET' && typeof window !== 'undefined') delete window.__bootGets;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (windowBearer) headers['Authorization'] = `Bearer ${windowBearer}`;
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
    body = options.body;
  }
  let res: Response;
  try {
    const early = (options.method ?? 'GET') === 'GET' && !windowBearer ? takeBootGet(path) : undefined;
    res =
      (early && (await early.catch(() => undefined))) ??
      (await fetch(API_BASE + path, {
        method: options.method ?? 'GET',
        headers,
        body,
        credentials: 'same-origin',
        signal: options.signal,
      }));
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(NETWORK_ERROR_STATUS, 'network', err instanceof Error ? err.message : String(err));
  }
  noteServerTime(res);
  const parsed = parseJsonText(await res.text());
  if (res.status === 401 && !options.expectUnauthorized) {
    for (const listener of unauthorizedListeners) listener();
  }
  return { res, body: parsed };
}

/**
 * The contract types describe what the server sends for a successful answer;
 * the body is trusted here rather than validated field by field.
 */
export async function request<T>(path: string, options: SendOptions = {}): Promise<T> {
  const { res, body } = await send(path, options);
  if (!res.ok) throw errorFrom(res, body);
  // The single trust boundary of the client: a 2xx body is taken to match the contract.
  return body as T;
}

async function requestVoid(path: string, options: SendOptions = {}): Promise<void> {
  const { res, body } = await send(path, options);
  if (!res.ok) throw errorFrom(res, body);
}

/** A stream ticket and how long it stays valid, measured on the server's clock (wall PCs' clocks drift). */
export interface TicketGrant {
  ticket: StreamTicket;
  /** Milliseconds from now until `expiresAt`, by the response's `Date` header when it has one. */
  ttlMs: number;
}

function ticketGrant(res: Response, ticket: StreamTicket): TicketGrant {
  const expires = Date.parse(ticket.expiresAt);
  const serverNow = Date.parse(res.headers.get('Date') ?? '');
  const now = Number.isNaN(serverNow) ? Date.now() : serverNow;
  return { ticket, ttlMs: Number.isNaN(expires) ? 0 : expires - now };
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

// ---------------------------------------------------------------- queries

type QueryValue = string | number | boolean | null | undefined;

function queryString(entries: [string, QueryValue][]): string {
  const params = new URLSearchParams();
  for (const [key, value] of entries) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function cameraQueryEntries(query: CameraSearchQuery): [string, QueryValue][] {
  return [
    ['q', query.q?.trim()],
    ['org', query.org],
    ['network', query.network],
    ['status', query.status],
    ['ptz', query.ptz],
    ['bbox', query.bbox],
    ['limit', query.limit],
    ['cursor', query.cursor],
    ['withTotal', query.withTotal],
  ];
}

// ---------------------------------------------------------------- endpoints

export const api = {
  login: (credentials: LoginRequest) =>
    request<LoginResponse>('/auth/login', { method: 'POST', json: credentials, expectUnauthorized: true }),
  me: (signal?: AbortSignal) => request<SessionUser>('/auth/me', { signal, expectUnauthorized: true }),
  /** Whether anyone is signed in: null is an answer (200), so a page load logs no 401. */
  session: (signal?: AbortSignal) => request<SessionUser | null>('/auth/session', { signal }),
  logout: () => requestVoid('/auth/logout', { method: 'POST', expectUnauthorized: true }),

  orgUnits: (signal?: AbortSignal) => request<OrgUnitView[]>('/org-units', { signal }),
  networks: (signal?: AbortSignal) => request<NetworkView[]>('/networks', { signal }),
  mapConfig: (signal?: AbortSignal) => request<MapConfig>('/map/config', { signal }),

  searchCameras: (query: CameraSearchQuery, signal?: AbortSignal) =>
    request<Page<CameraPointView>>(`/cameras${queryString(cameraQueryEntries(query))}`, { signal }),
  camera: (id: number, signal?: AbortSignal) => request<CameraPointView>(`/cameras/${id}`, { signal }),
  createCamera: (input: CameraPointInput) => request<CameraPointView>('/cameras', { method: 'POST', json: input }),
  patchCamera: (id: number, patch: CameraPointPatch) =>
    request<CameraPointView>(`/cameras/${id}`, { method: 'PATCH', json: patch }),
  /** With the version the user saw: a point changed meanwhile answers 409 instead of vanishing. */
  deleteCamera: (id: number, version: number) =>
    requestVoid(`/cameras/${id}${queryString([['version', version]])}`, { method: 'DELETE' }),

  /**
   * Sends the file's raw bytes: the server detects UTF-8 or GBK itself, so the
   * browser must not decode (and possibly mangle) the text.
   * Both 201 (imported) and 422 (nothing imported, every bad row listed) carry a report.
   */
  importCameras: async (file: Blob): Promise<ImportReport> => {
    const { res, body } = await send('/cameras/import', { method: 'POST', body: file, contentType: 'text/csv' });
    if ((res.ok || res.status === 422) && isImportReport(body)) return body;
    throw errorFrom(res, body);
  },

  /** Asks the relay for a playlist of this camera; answers once the stream runs or is starting. */
  streamTicket: async (id: number, body: StreamRequest, signal?: AbortSignal): Promise<TicketGrant> => {
    const { res, body: reply } = await send(`/cameras/${id}/stream`, { method: 'POST', json: body, signal });
    if (!res.ok) throw errorFrom(res, reply);
    if (!isStreamTicket(reply)) throw new ApiError(res.status, 'bad_reply', 'malformed stream ticket');
    return ticketGrant(res, reply);
  },
  /** The JPEG itself; errors come back as JSON like every other endpoint. */
  snapshot: async (id: number, signal?: AbortSignal): Promise<Blob> => {
    let res: Response;
    try {
      res = await fetch(`${API_BASE}/cameras/${id}/snapshot.jpg`, {
        credentials: 'same-origin',
        signal,
        ...(windowBearer ? { headers: { Authorization: `Bearer ${windowBearer}` } } : {}),
      });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(NETWORK_ERROR_STATUS, 'network', err instanceof Error ? err.message : String(err));
    }
    if (res.ok) return res.blob();
    const body = parseJsonText(await res.text());
    if (res.status === 401) for (const listener of unauthorizedListeners) listener();
    throw errorFrom(res, body);
  },
  ptz: (id: number, command: PtzCommand) => requestVoid(`/cameras/${id}/ptz`, { method: 'POST', json: command }),
  ptzPresets: (id: number, signal?: AbortSignal) => request<PtzPresetView[]>(`/cameras/${id}/ptz/presets`, { signal }),

  onlineRate: (signal?: AbortSignal) => request<OnlineRateReport>('/health/online-rate', { signal }),

  startScan: (body: ScanRequest) => request<ScanView>('/discovery/scans', { method: 'POST', json: body }),
  scans: (signal?: AbortSignal) => request<ScanView[]>('/discovery/scans', { signal }),
  scan: (id: number, signal?: AbortSignal) =>
    request<{ scan: ScanView; devices: DiscoveredDeviceView[] }>(`/discovery/scans/${id}`, { signal }),
  cancelScan: (id: number) => request<ScanView>(`/discovery/scans/${id}/cancel`, { method: 'POST' }),
  confirmDevice: (id: number, body: ConfirmDeviceRequest) =>
    request<CameraPointView>(`/discovery/devices/${id}/confirm`, { method: 'POST', json: body }),

  /** Alert changes in the caller's jurisdiction after a `seq` cursor, oldest first. */
  alertsSince: (since: number, limit: number, signal?: AbortSignal) =>
    request<Page<AlertView>>(
      `/alerts${queryString([
        ['since', since],
        ['limit', limit],
      ])}`,
      { signal },
    ),
  alert: (id: number, signal?: AbortSignal) =>
    request<AlertView & { history: AlertHistoryEntry[] }>(`/alerts/${id}`, { signal }),
  alertAction: (id: number, action: AlertAction, note: string) =>
    request<AlertView>(`/alerts/${id}/${action}`, {
      method: 'POST',
      json: note.trim() ? { note: note.trim() } : {},
    }),

  audit: (cursor: string | null, signal?: AbortSignal) =>
    request<Page<AuditEntry>>(
      `/audit${queryString([
        ['limit', 100],
        ['cursor', cursor],
      ])}`,
      { signal },
    ),
};

/** Link target for the CSV export with the same filters as the table (no paging). */
export function cameraExportUrl(query: CameraSearchQuery): string {
  const paging = new Set(['limit', 'cursor', 'withTotal']);
  const filters = cameraQueryEntries(query).filter(([key]) => !paging.has(key));
  return `${API_BASE}/cameras/export.csv${queryString(filters)}`;
}

/** maplibre fetches sources itself and needs absolute URLs. */
export function absoluteApiUrl(path: string): string {
  return new URL(API_BASE + path, window.location.origin).toString();
}
