/**
 * Work orders (工单), statistics and video dispatch over /api/v1, through the
 * shared wrapper in api.ts (which also keeps the server's clock, so countdowns
 * do not drift with a wall PC's clock).
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
import { ORDER_STEP_ACTIONS, type OrderStepAction } from '@api/contract.ts';
import { API_BASE, request } from '../api.ts';

export { serverNow } from '../api.ts';

export type OrderDetail = WorkOrderView & { history: OrderTransitionView[]; actions: OrderAction[] };
export type StepAction = OrderStepAction;
export const STEP_ACTIONS = ORDER_STEP_ACTIONS;
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
