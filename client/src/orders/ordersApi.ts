/**
 * Work orders (工单), statistics and video dispatch over /api/v1. The shared
 * wrapper in api.ts stays untouched; this one speaks the same error format
 * (ApiError) and measures the server's clock so countdowns do not drift with
 * a wall PC's clock.
 */
import type {
  OrderAction,
  OrderAttachmentView,
  OrderState,
  OrderStatsView,
  OrderTransitionView,
  WallPushEvent,
  WorkOrderView,
  AlertLevel,
} from '@api/contract.ts';
import { api, API_BASE, ApiError, isAbort, isApiErrorBody, NETWORK_ERROR_STATUS } from '../api.ts';

export type OrderDetail = WorkOrderView & { history: OrderTransitionView[]; actions: OrderAction[] };
export type StepAction = 'assign' | 'sign' | 'reassign' | 'feedback' | 'close' | 'return' | 'escalate';
export const STEP_ACTIONS: readonly StepAction[] = [
  'assign',
  'sign',
  'reassign',
  'feedback',
  'close',
  'return',
  'escalate',
];
export type StatsPeriod = OrderStatsView['period'];

export interface StepBody {
  note?: string;
  targetOrgUnitId?: number;
  attachmentIds?: number[];
  snapshotCameraId?: number;
  version?: number;
}

export interface CreateOrderBody {
  alertId?: number;
  title?: string;
  level?: AlertLevel;
  description?: string;
  position?: { lon: number; lat: number };
  orgUnitId?: number;
  cameraIds?: number[];
  assignTo?: 'auto' | 'hold' | 'report_up' | number;
}

export interface OrderListQuery {
  state?: readonly OrderState[];
  mine?: boolean;
  overdue?: boolean;
  before?: number;
  limit?: number;
}

export interface StatsQuery {
  orgUnitId?: number | null;
  period: StatsPeriod;
  from?: string;
  to?: string;
}

/** Server time minus local time, from the last answer's Date header (ms). */
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

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function request<T>(
  path: string,
  opts: { method?: 'GET' | 'POST'; json?: unknown; body?: Blob; contentType?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
    body = opts.body;
  }
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(NETWORK_ERROR_STATUS, 'network', err instanceof Error ? err.message : String(err));
  }
  noteServerTime(res);
  const parsed = parseJson(await res.text());
  if (res.ok) return parsed as T; // trusted like api.ts: a 2xx body matches the contract
  if (res.status === 401) {
    // Let the shared wrapper notice the lost session and sign the console out.
    api.orgUnits().catch(() => undefined);
  }
  if (isApiErrorBody(parsed)) {
    throw new ApiError(res.status, parsed.error.code, parsed.error.message, parsed.error.fields ?? []);
  }
  throw new ApiError(res.status, `http_${res.status}`, res.statusText || `HTTP ${res.status}`);
}

function qs(entries: [string, string | number | undefined | null][]): string {
  const params = new URLSearchParams();
  for (const [k, v] of entries) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function statsQs(q: StatsQuery): string {
  return qs([
    ['orgUnitId', q.orgUnitId ?? undefined],
    ['period', q.period],
    ['from', q.from],
    ['to', q.to],
  ]);
}

export const ordersApi = {
  list: (q: OrderListQuery, signal?: AbortSignal) =>
    request<{ items: WorkOrderView[]; nextCursor: string | null }>(
      `/orders${qs([
        ['state', q.state && q.state.length > 0 ? q.state.join(',') : undefined],
        ['mine', q.mine ? 1 : undefined],
        ['overdue', q.overdue ? 1 : undefined],
        ['before', q.before],
        ['limit', q.limit ?? 100],
      ])}`,
      { signal },
    ),
  get: (id: number, signal?: AbortSignal) => request<OrderDetail>(`/orders/${id}`, { signal }),
  create: (body: CreateOrderBody) => request<WorkOrderView>('/orders', { method: 'POST', json: body }),
  step: (id: number, action: StepAction, body: StepBody) =>
    request<WorkOrderView>(`/orders/${id}/${action}`, { method: 'POST', json: body }),
  upload: (id: number, file: Blob) =>
    request<OrderAttachmentView>(`/orders/${id}/attachments`, {
      method: 'POST',
      body: file,
      contentType: file.type === 'image/png' ? 'image/png' : 'image/jpeg',
    }),
  stats: (q: StatsQuery, signal?: AbortSignal) => request<OrderStatsView>(`/orders/stats${statsQs(q)}`, { signal }),
  pushToWall: (body: { targetOrgUnitId: number; cameraIds?: number[]; orderId?: number; note?: string }) =>
    request<WallPushEvent>('/wall-pushes', { method: 'POST', json: body }),
};

export function statsCsvUrl(q: StatsQuery): string {
  return `${API_BASE}/orders/stats.csv${statsQs(q)}`;
}

/** Attachment URLs come from the server already rooted at /api/v1. */
export function attachmentUrl(a: OrderAttachmentView): string {
  return a.url.startsWith('/') ? a.url : `${API_BASE}/${a.url}`;
}
