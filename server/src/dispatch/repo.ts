import type { AlertLevel, OrderAction, OrderState, WallLayout } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { pathRange, type Scope } from '../org/scope.ts';

/** 工单 — a matter followed from report to close, as stored. */
export interface WorkOrder {
  id: number;
  title: string;
  description: string;
  level: AlertLevel;
  state: OrderState;
  alertId: number | null;
  lon: number | null;
  lat: number | null;
  cameraIds: number[];
  placeOrgUnitId: number;
  placePath: string;
  chain: number[];
  assigneeOrgUnitId: number;
  signDeadline: string | null;
  handleDeadline: string | null;
  /** When the deadline scheduler must look at this order next; null when nothing is running. */
  nextCheckAt: string | null;
  /** Supervisions at the present holder (reset when the order moves). */
  superviseCount: number;
  superviseTotal: number;
  escalations: number;
  createdBy: number | null;
  createdByName: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedOnTime: boolean | null;
  handleSeconds: number | null;
  version: number;
}

export type NewWorkOrder = Omit<
  WorkOrder,
  'id' | 'superviseCount' | 'superviseTotal' | 'escalations' | 'closedAt' | 'closedOnTime' | 'handleSeconds' | 'version'
>;

export type OrderPatch = Partial<
  Pick<
    WorkOrder,
    | 'state'
    | 'chain'
    | 'assigneeOrgUnitId'
    | 'signDeadline'
    | 'handleDeadline'
    | 'nextCheckAt'
    | 'superviseCount'
    | 'superviseTotal'
    | 'escalations'
    | 'closedAt'
    | 'closedOnTime'
    | 'handleSeconds'
  >
> & { updatedAt: string };

export interface OrderTransition {
  id: number;
  orderId: number;
  action: OrderAction;
  fromState: OrderState | null;
  toState: OrderState;
  actorUserId: number | null;
  actorName: string;
  actorOrgUnitId: number | null;
  assigneeOrgUnitId: number | null;
  note: string | null;
  at: string;
}

export interface OrderAttachment {
  id: number;
  orderId: number;
  transitionId: number | null;
  kind: 'snapshot' | 'image';
  cameraId: number | null;
  contentType: string;
  bytes: number;
  uploadedBy: number | null;
  takenAt: string;
}

/** 视频调度 — one push of cameras or a layout to a lower level's wall. */
export interface WallPush {
  id: number;
  fromUserId: number;
  fromOrgUnitId: number;
  targetOrgUnitId: number;
  targetPath: string;
  screenId: number | null;
  cameraIds: number[];
  layout: WallLayout | null;
  orderId: number | null;
  note: string | null;
  at: string;
}

/** What the deadline pass reads of each due order (many at once after downtime: kept small). */
export type DueOrder = Pick<
  WorkOrder,
  | 'id'
  | 'title'
  | 'state'
  | 'chain'
  | 'placePath'
  | 'assigneeOrgUnitId'
  | 'signDeadline'
  | 'handleDeadline'
  | 'superviseCount'
  | 'superviseTotal'
  | 'updatedAt'
  | 'version'
>;

/** What statistics need of an order: small rows, read in bulk. */
export interface OrderStatFacts {
  placePath: string;
  createdAt: string;
  closedAt: string | null;
  closedOnTime: boolean | null;
  handleSeconds: number | null;
}

interface OrderRow {
  id: number;
  title: string;
  description: string;
  level: AlertLevel;
  state: OrderState;
  alert_id: number | null;
  lon: number | null;
  lat: number | null;
  camera_ids: string;
  place_org_unit_id: number;
  place_path: string;
  chain: string;
  assignee_org_unit_id: number;
  sign_deadline: string | null;
  handle_deadline: string | null;
  next_check_at: string | null;
  supervise_count: number;
  supervise_total: number;
  escalations: number;
  created_by: number | null;
  created_by_name: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_on_time: number | null;
  handle_seconds: number | null;
  version: number;
}

const ORDER_COLUMNS =
  'id, title, description, level, state, alert_id, lon, lat, camera_ids, place_org_unit_id, place_path, chain, assignee_org_unit_id, sign_deadline, handle_deadline, next_check_at, supervise_count, supervise_total, escalations, created_by, created_by_name, created_at, updated_at, closed_at, closed_on_time, handle_seconds, version';

function toOrder(r: OrderRow): WorkOrder {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    level: r.level,
    state: r.state,
    alertId: r.alert_id,
    lon: r.lon,
    lat: r.lat,
    cameraIds: JSON.parse(r.camera_ids) as number[],
    placeOrgUnitId: r.place_org_unit_id,
    placePath: r.place_path,
    chain: JSON.parse(r.chain) as number[],
    assigneeOrgUnitId: r.assignee_org_unit_id,
    signDeadline: r.sign_deadline,
    handleDeadline: r.handle_deadline,
    nextCheckAt: r.next_check_at,
    superviseCount: r.supervise_count,
    superviseTotal: r.supervise_total,
    escalations: r.escalations,
    createdBy: r.created_by,
    createdByName: r.created_by_name,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    closedAt: r.closed_at,
    closedOnTime: r.closed_on_time === null ? null : r.closed_on_time === 1,
    handleSeconds: r.handle_seconds,
    version: r.version,
  };
}

const PATCH_COLUMNS: Record<keyof Omit<OrderPatch, 'updatedAt'>, string> = {
  state: 'state',
  chain: 'chain',
  assigneeOrgUnitId: 'assignee_org_unit_id',
  signDeadline: 'sign_deadline',
  handleDeadline: 'handle_deadline',
  nextCheckAt: 'next_check_at',
  superviseCount: 'supervise_count',
  superviseTotal: 'supervise_total',
  escalations: 'escalations',
  closedAt: 'closed_at',
  closedOnTime: 'closed_on_time',
  handleSeconds: 'handle_seconds',
};

export interface OrderListFilter {
  states?: OrderState[];
  /** Only orders held by this unit. */
  assigneeOrgUnitId?: number;
  /** Orders whose running deadline passed before this instant. */
  overdueAt?: string;
  beforeId?: number;
  limit: number;
}

export interface DispatchRepo {
  insert(o: NewWorkOrder): Promise<WorkOrder>;
  byId(scope: Scope, id: number): Promise<WorkOrder | undefined>;
  byAlert(alertId: number): Promise<WorkOrder | undefined>;
  /** Applies `patch` if the order is still at `version`; returns the new row or undefined on a lost race. */
  update(id: number, version: number, patch: OrderPatch): Promise<WorkOrder | undefined>;
  list(scope: Scope, f: OrderListFilter): Promise<WorkOrder[]>;
  /** Open orders whose next check is due, oldest first: only what the deadline pass needs. */
  due(at: string, limit: number): Promise<DueOrder[]>;
  byIds(ids: number[]): Promise<WorkOrder[]>;
  addTransition(t: Omit<OrderTransition, 'id'>): Promise<OrderTransition>;
  /** One more supervision for each order (the deadline pass), in statements of many rows. */
  superviseMany(ids: number[], nextCheckAt: string, at: string): Promise<void>;
  addTransitions(ts: Omit<OrderTransition, 'id'>[]): Promise<void>;
  attachmentCounts(orderIds: number[]): Promise<Map<number, number>>;
  transitions(orderId: number): Promise<OrderTransition[]>;
  addAttachment(a: Omit<OrderAttachment, 'id'>, data: Buffer): Promise<OrderAttachment>;
  bindAttachments(orderId: number, ids: number[], transitionId: number): Promise<void>;
  attachments(orderId: number): Promise<OrderAttachment[]>;
  attachmentData(orderId: number, id: number): Promise<{ meta: OrderAttachment; data: Buffer } | undefined>;
  countAttachments(orderId: number): Promise<number>;
  /** Uploads never used by a step, older than `before` (cleanup). */
  deleteLooseAttachments(before: string): Promise<number>;
  /** Orders under `path` created or closed within [from, to), plus all open ones (for "overdue now"). */
  statFacts(path: string, from: string, to: string): Promise<OrderStatFacts[]>;
  /** Open orders under `path` whose running deadline is before `at`. */
  overdueFacts(path: string, at: string): Promise<{ placePath: string }[]>;
  addPush(p: Omit<WallPush, 'id'>): Promise<WallPush>;
  pushes(scope: Scope, limit: number): Promise<WallPush[]>;
}

interface AttachmentRow {
  id: number;
  order_id: number;
  transition_id: number | null;
  kind: 'snapshot' | 'image';
  camera_id: number | null;
  content_type: string;
  bytes: number;
  uploaded_by: number | null;
  taken_at: string;
}

const toAttachment = (r: AttachmentRow): OrderAttachment => ({
  id: r.id,
  orderId: r.order_id,
  transitionId: r.transition_id,
  kind: r.kind,
  cameraId: r.camera_id,
  contentType: r.content_type,
  bytes: r.bytes,
  uploadedBy: r.uploaded_by,
  takenAt: r.taken_at,
});

const ATTACHMENT_COLUMNS = 'id, order_id, transition_id, kind, camera_id, content_type, bytes, uploaded_by, taken_at';

interface PushRow {
  id: number;
  from_user_id: number;
  from_org_unit_id: number;
  target_org_unit_id: number;
  target_path: string;
  screen_id: number | null;
  camera_ids: string;
  layout_json: string | null;
  order_id: number | null;
  note: string | null;
  at: string;
}

const toPush = (r: PushRow): WallPush => ({
  id: r.id,
  fromUserId: r.from_user_id,
  fromOrgUnitId: r.from_org_unit_id,
  targetOrgUnitId: r.target_org_unit_id,
  targetPath: r.target_path,
  screenId: r.screen_id,
  cameraIds: JSON.parse(r.camera_ids) as number[],
  layout: r.layout_json ? (JSON.parse(r.layout_json) as WallLayout) : null,
  orderId: r.order_id,
  note: r.note,
  at: r.at,
});

/**
 * The running deadline of an open order, as SQL: the sign deadline while it
 * waits to be signed, the handle deadline while it is handled.
 */
const RUNNING_DEADLINE = `CASE WHEN state IN ('reported', 'assigned') THEN sign_deadline WHEN state = 'signed' THEN handle_deadline END`;

/** A transition's values in the column order of the INSERTs below. */
const transitionParams = (t: Omit<OrderTransition, 'id'>) => [
  t.orderId,
  t.action,
  t.fromState,
  t.toState,
  t.actorUserId,
  t.actorName,
  t.actorOrgUnitId,
  t.assigneeOrgUnitId,
  t.note,
  t.at,
];

/** Ids per statement in batch work: well under every database's parameter limit. */
const CHUNK = 500;

export function createDispatchRepo(store: Store): DispatchRepo {
  const byIdAny = async (id: number) => {
    const r = await store.get<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM work_orders WHERE id = ?`, [id]);
    return r ? toOrder(r) : undefined;
  };
  return {
    async insert(o) {
      const id = await store.insert(
        `INSERT INTO work_orders (title, description, level, state, alert_id, lon, lat, camera_ids, place_org_unit_id, place_path, chain, assignee_org_unit_id, sign_deadline, handle_deadline, next_check_at, created_by, created_by_name, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          o.title,
          o.description,
          o.level,
          o.state,
          o.alertId,
          o.lon,
          o.lat,
          JSON.stringify(o.cameraIds),
          o.placeOrgUnitId,
          o.placePath,
          JSON.stringify(o.chain),
          o.assigneeOrgUnitId,
          o.signDeadline,
          o.handleDeadline,
          o.nextCheckAt,
          o.createdBy,
          o.createdByName,
          o.createdAt,
          o.updatedAt,
        ],
      );
      const out = await byIdAny(id);
      if (!out) throw new Error('inserted order vanished');
      return out;
    },
    async byId(scope, id) {
      const o = await byIdAny(id);
      return o && o.placePath.startsWith(scope.path) ? o : undefined;
    },
    async byAlert(alertId) {
      const r = await store.get<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM work_orders WHERE alert_id = ?`, [alertId]);
      return r ? toOrder(r) : undefined;
    },
    async update(id, version, patch) {
      const sets: string[] = ['updated_at = ?', 'version = version + 1'];
      const params: (string | number | null)[] = [patch.updatedAt];
      for (const [k, col] of Object.entries(PATCH_COLUMNS) as [keyof typeof PATCH_COLUMNS, string][]) {
        if (!(k in patch)) continue;
        const v = patch[k];
        sets.push(`${col} = ?`);
        if (k === 'chain') params.push(JSON.stringify(v));
        else if (typeof v === 'boolean') params.push(v ? 1 : 0);
        else params.push((v ?? null) as string | number | null);
      }
      const { changes } = await store.run(`UPDATE work_orders SET ${sets.join(', ')} WHERE id = ? AND version = ?`, [
        ...params,
        id,
        version,
      ]);
      return changes === 1 ? await byIdAny(id) : undefined;
    },
    async list(scope, f) {
      const [lo, hi] = pathRange(scope.path);
      const where = ['place_path >= ?', 'place_path < ?'];
      const params: (string | number)[] = [lo, hi];
      if (f.states && f.states.length > 0) {
        where.push(`state IN (${f.states.map(() => '?').join(', ')})`);
        params.push(...f.states);
      }
      if (f.assigneeOrgUnitId !== undefined) {
        where.push('assignee_org_unit_id = ?');
        params.push(f.assigneeOrgUnitId);
      }
      if (f.overdueAt !== undefined) {
        where.push(`${RUNNING_DEADLINE} < ?`);
        params.push(f.overdueAt);
      }
      if (f.beforeId !== undefined) {
        where.push('id < ?');
        params.push(f.beforeId);
      }
      return (
        await store.all<OrderRow>(
          `SELECT ${ORDER_COLUMNS} FROM work_orders WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
          [...params, f.limit],
        )
      ).map(toOrder);
    },
    async due(at, limit) {
      return (
        await store.rows(
          `SELECT id, title, state, chain, place_path, assignee_org_unit_id, sign_deadline, handle_deadline, supervise_count, supervise_total, updated_at, version
           FROM work_orders WHERE next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT ?`,
          [at, limit],
        )
      ).map((r) => ({
        id: r[0] as number,
        title: r[1] as string,
        state: r[2] as OrderState,
        chain: JSON.parse(r[3] as string) as number[],
        placePath: r[4] as string,
        assigneeOrgUnitId: r[5] as number,
        signDeadline: r[6] as string | null,
        handleDeadline: r[7] as string | null,
        superviseCount: r[8] as number,
        superviseTotal: r[9] as number,
        updatedAt: r[10] as string,
        version: r[11] as number,
      }));
    },
    async byIds(ids) {
      const out: WorkOrder[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const part = ids.slice(i, i + CHUNK);
        const rows = await store.all<OrderRow>(
          `SELECT ${ORDER_COLUMNS} FROM work_orders WHERE id IN (${part.map(() => '?').join(', ')})`,
          part,
        );
        out.push(...rows.map(toOrder));
      }
      return out;
    },
    async addTransition(t) {
      const id = await store.insert(
        'INSERT INTO work_order_transitions (order_id, action, from_state, to_state, actor_user_id, actor_name, actor_org_unit_id, assignee_org_unit_id, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        transitionParams(t),
      );
      return { ...t, id };
    },
    async superviseMany(ids, nextCheckAt, at) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const part = ids.slice(i, i + CHUNK);
        await store.run(
          `UPDATE work_orders SET supervise_count = supervise_count + 1, supervise_total = supervise_total + 1, next_check_at = ?, updated_at = ?, version = version + 1 WHERE id IN (${part.map(() => '?').join(', ')})`,
          [nextCheckAt, at, ...part],
        );
      }
    },
    async addTransitions(ts) {
      const rows = 50;
      for (let i = 0; i < ts.length; i += rows) {
        const part = ts.slice(i, i + rows);
        await store.run(
          `INSERT INTO work_order_transitions (order_id, action, from_state, to_state, actor_user_id, actor_name, actor_org_unit_id, assignee_org_unit_id, note, at) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          part.flatMap(transitionParams),
        );
      }
    },
    async attachmentCounts(orderIds) {
      const out = new Map<number, number>();
      for (let i = 0; i < orderIds.length; i += CHUNK) {
        const part = orderIds.slice(i, i + CHUNK);
        for (const r of await store.all<{ order_id: number; n: number }>(
          `SELECT order_id, COUNT(*) AS n FROM work_order_attachments WHERE order_id IN (${part.map(() => '?').join(', ')}) GROUP BY order_id`,
          part,
        ))
          out.set(r.order_id, r.n);
      }
      return out;
    },
    async transitions(orderId) {
      return (
        await store.all<{
          id: number;
          order_id: number;
          action: OrderAction;
          from_state: OrderState | null;
          to_state: OrderState;
          actor_user_id: number | null;
          actor_name: string;
          actor_org_unit_id: number | null;
          assignee_org_unit_id: number | null;
          note: string | null;
          at: string;
        }>(
          'SELECT id, order_id, action, from_state, to_state, actor_user_id, actor_name, actor_org_unit_id, assignee_org_unit_id, note, at FROM work_order_transitions WHERE order_id = ? ORDER BY id',
          [orderId],
        )
      ).map((r) => ({
        id: r.id,
        orderId: r.order_id,
        action: r.action,
        fromState: r.from_state,
        toState: r.to_state,
        actorUserId: r.actor_user_id,
        actorName: r.actor_name,
        actorOrgUnitId: r.actor_org_unit_id,
        assigneeOrgUnitId: r.assignee_org_unit_id,
        note: r.note,
        at: r.at,
      }));
    },
    async addAttachment(a, data) {
      const id = await store.insert(
        'INSERT INTO work_order_attachments (order_id, transition_id, kind, camera_id, content_type, bytes, data, uploaded_by, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [a.orderId, a.transitionId, a.kind, a.cameraId, a.contentType, a.bytes, data, a.uploadedBy, a.takenAt],
      );
      return { ...a, id };
    },
    async bindAttachments(orderId, ids, transitionId) {
      for (const id of ids) {
        await store.run(
          'UPDATE work_order_attachments SET transition_id = ? WHERE id = ? AND order_id = ? AND transition_id IS NULL',
          [transitionId, id, orderId],
        );
      }
    },
    async attachments(orderId) {
      return (
        await store.all<AttachmentRow>(
          `SELECT ${ATTACHMENT_COLUMNS} FROM work_order_attachments WHERE order_id = ? ORDER BY id`,
          [orderId],
        )
      ).map(toAttachment);
    },
    async attachmentData(orderId, id) {
      const r = await store.get<AttachmentRow & { data: Uint8Array }>(
        `SELECT ${ATTACHMENT_COLUMNS}, data FROM work_order_attachments WHERE order_id = ? AND id = ?`,
        [orderId, id],
      );
      return r ? { meta: toAttachment(r), data: Buffer.from(r.data) } : undefined;
    },
    async countAttachments(orderId) {
      return (
        (
          await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM work_order_attachments WHERE order_id = ?', [
            orderId,
          ])
        )?.n ?? 0
      );
    },
    async deleteLooseAttachments(before) {
      return Number(
        (await store.run('DELETE FROM work_order_attachments WHERE transition_id IS NULL AND taken_at < ?', [before]))
          .changes,
      );
    },
    async statFacts(path, from, to) {
      const [lo, hi] = pathRange(path);
      return (
        await store.rows(
          `SELECT place_path, created_at, closed_at, closed_on_time, handle_seconds FROM work_orders
           WHERE place_path >= ? AND place_path < ? AND created_at >= ? AND created_at < ?
           UNION ALL
           SELECT place_path, NULL, closed_at, closed_on_time, handle_seconds FROM work_orders
           WHERE place_path >= ? AND place_path < ? AND closed_at >= ? AND closed_at < ? AND created_at < ?`,
          [lo, hi, from, to, lo, hi, from, to, from],
        )
      ).map((r) => ({
        placePath: r[0] as string,
        createdAt: (r[1] as string | null) ?? '',
        closedAt: r[2] as string | null,
        closedOnTime: r[3] === null ? null : r[3] === 1,
        handleSeconds: r[4] as number | null,
      }));
    },
    async overdueFacts(path, at) {
      const [lo, hi] = pathRange(path);
      return (
        await store.all<{ place_path: string }>(
          `SELECT place_path FROM work_orders WHERE next_check_at IS NOT NULL AND place_path >= ? AND place_path < ? AND ${RUNNING_DEADLINE} < ?`,
          [lo, hi, at],
        )
      ).map((r) => ({ placePath: r.place_path }));
    },
    async addPush(p) {
      const id = await store.insert(
        'INSERT INTO wall_pushes (from_user_id, from_org_unit_id, target_org_unit_id, target_path, screen_id, camera_ids, layout_json, order_id, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          p.fromUserId,
          p.fromOrgUnitId,
          p.targetOrgUnitId,
          p.targetPath,
          p.screenId,
          JSON.stringify(p.cameraIds),
          p.layout ? JSON.stringify(p.layout) : null,
          p.orderId,
          p.note,
          p.at,
        ],
      );
      return { ...p, id };
    },
    async pushes(scope, limit) {
      const [lo, hi] = pathRange(scope.path);
      return (
        await store.all<PushRow>(
          'SELECT id, from_user_id, from_org_unit_id, target_org_unit_id, target_path, screen_id, camera_ids, layout_json, order_id, note, at FROM wall_pushes WHERE target_path >= ? AND target_path < ? ORDER BY id DESC LIMIT ?',
          [lo, hi, limit],
        )
      ).map(toPush);
    },
  };
}
