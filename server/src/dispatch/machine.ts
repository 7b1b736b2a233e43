/**
 * The closed loop (闭环) as a pure state machine: who may take which step of
 * a work order, and where the order goes. No storage, no clock: the service
 * applies what this decides inside one transaction.
 *
 * An order travels down a chain of org units (交办): county → township →
 * village. The last unit of the chain has it (the holder); the one before it
 * assigned it and checks the feedback (the assigner). Every step belongs to
 * exactly one unit, so "the wrong level" is a precise answer, not a guess.
 */
import type { AlertLevel, OrderAction, OrderState, OrgLevel } from '../api/contract.ts';

export interface OrderPosition {
  state: OrderState;
  /** Org unit ids, top first; never empty. */
  chain: number[];
}

/** What the machine needs to know about the org tree. */
export interface OrgFacts {
  /** Parent org unit id, or null at the top. */
  parentOf(id: number): number | null;
  /** True when `a` is a strict descendant of `b`. */
  isBelow(a: number, b: number): boolean;
  /** True when `unit` is the place's unit or one of its ancestors (it owns the place). */
  ownsPlace(unit: number): boolean;
}

export type Decision =
  | { ok: true; action: OrderAction; next: OrderPosition }
  | { ok: false; status: 403 | 409 | 400; reason: string; field?: string };

const holderOf = (p: OrderPosition): number => p.chain[p.chain.length - 1] as number;
const assignerOf = (p: OrderPosition): number | null =>
  p.chain.length >= 2 ? (p.chain[p.chain.length - 2] as number) : null;

/** The steps a user at `actorUnit` can take now (for the UI's buttons; the same rules as `decide`). */
export function availableActions(p: OrderPosition, actorUnit: number, org: OrgFacts): OrderAction[] {
  const out: OrderAction[] = [];
  for (const a of ['assign', 'sign', 'reassign', 'feedback', 'close', 'return', 'escalate'] as const) {
    const d = decide(p, a, actorUnit, org, a === 'assign' || a === 'reassign' ? { probeTarget: true } : {});
    if (d.ok) out.push(a);
  }
  return out;
}

/**
 * Decides one step. `target` is the unit an assign/reassign sends the order
 * to; `probeTarget` asks only whether the step is open to the actor.
 */
export function decide(
  p: OrderPosition,
  action: Exclude<OrderAction, 'create' | 'supervise' | 'approve'>,
  actorUnit: number,
  org: OrgFacts,
  opts: { target?: number; probeTarget?: boolean } = {},
): Decision {
  if (p.state === 'closed') return { ok: false, status: 409, reason: 'the order is closed' };
  const holder = holderOf(p);
  const assigner = assignerOf(p);
  const wrongUnit = (who: string): Decision => ({ ok: false, status: 403, reason: `this step belongs to ${who}` });
  const wrongState = (): Decision => ({
    ok: false,
    status: 409,
    reason: `cannot ${action} an order that is ${p.state}`,
  });
  const checkTarget = (): Decision | null => {
    if (opts.probeTarget) return null;
    const t = opts.target;
    if (t === undefined)
      return { ok: false, status: 400, reason: 'targetOrgUnitId: required', field: 'targetOrgUnitId' };
    if (!org.isBelow(t, holder))
      return {
        ok: false,
        status: 400,
        reason: 'targetOrgUnitId: must be a unit below the one that has the order',
        field: 'targetOrgUnitId',
      };
    if (!org.ownsPlace(t))
      return {
        ok: false,
        status: 400,
        reason: "targetOrgUnitId: must be the unit that owns the order's place, or one above it",
        field: 'targetOrgUnitId',
      };
    return null;
  };

  switch (action) {
    case 'assign': {
      if (p.state !== 'reported') return wrongState();
      if (actorUnit !== holder) return wrongUnit('the unit that has the order');
      const bad = checkTarget();
      if (bad) return bad;
      return { ok: true, action, next: { state: 'assigned', chain: [...p.chain, opts.target ?? -1] } };
    }
    case 'reassign': {
      if (p.state !== 'signed') return wrongState();
      if (actorUnit !== holder) return wrongUnit('the unit that has the order');
      const bad = checkTarget();
      if (bad) return bad;
      return { ok: true, action, next: { state: 'assigned', chain: [...p.chain, opts.target ?? -1] } };
    }
    case 'sign':
      // From 'reported' the holder takes the matter on itself instead of assigning it down.
      if (p.state !== 'assigned' && p.state !== 'reported') return wrongState();
      if (actorUnit !== holder) return wrongUnit('the unit the order was assigned to');
      return { ok: true, action, next: { state: 'signed', chain: p.chain } };
    case 'feedback':
      if (p.state !== 'signed') return wrongState();
      if (actorUnit !== holder) return wrongUnit('the unit handling the order');
      return { ok: true, action, next: { state: 'fed_back', chain: p.chain } };
    case 'close': {
      if (assigner === null) {
        // The first unit handled it itself: it closes its own order.
        if (p.state !== 'signed' && p.state !== 'fed_back') return wrongState();
        if (actorUnit !== holder) return wrongUnit('the unit that has the order');
        return { ok: true, action, next: { state: 'closed', chain: p.chain } };
      }
      if (p.state !== 'fed_back') return wrongState();
      if (actorUnit !== assigner) return wrongUnit('the unit that assigned the order');
      // An intermediate level accepts its lower level's feedback and passes it up to its own assigner.
      if (p.chain.length > 2)
        return { ok: true, action: 'approve', next: { state: 'fed_back', chain: p.chain.slice(0, -1) } };
      return { ok: true, action, next: { state: 'closed', chain: p.chain } };
    }
    case 'return':
      if (p.state === 'fed_back') {
        // 退回: the feedback is not good enough; the same unit handles it again.
        if (assigner === null || actorUnit !== assigner) return wrongUnit('the unit that assigned the order');
        return { ok: true, action, next: { state: 'signed', chain: p.chain } };
      }
      if (p.state === 'assigned' || p.state === 'signed') {
        // 退回 by the holder: not ours; the assigner has it again.
        if (actorUnit !== holder) return wrongUnit('the unit the order was assigned to');
        if (assigner === null) return wrongState();
        const chain = p.chain.slice(0, -1);
        return { ok: true, action, next: { state: chain.length === 1 ? 'reported' : 'signed', chain } };
      }
      return wrongState();
    case 'escalate':
      if (p.state === 'fed_back') return wrongState();
      if (actorUnit !== holder) return wrongUnit('the unit that has the order');
      return escalation(p, org) ?? { ok: false, status: 409, reason: 'the order is already at the top level' };
  }
}

/**
 * 上报 / automatic escalation: the order moves up one level of the org tree.
 * When the unit above is the one that assigned it, that unit takes it back and
 * handles it; when the assignment skipped a level (county → village), the
 * skipped unit now has it and must sign; at the head of the chain it is
 * reported to the parent unit, which verifies and assigns it.
 */
export function escalation(p: OrderPosition, org: OrgFacts): Decision | null {
  if (p.state === 'closed' || p.state === 'fed_back') return null;
  const holder = holderOf(p);
  const parent = org.parentOf(holder);
  const assigner = assignerOf(p);
  if (assigner !== null) {
    if (parent === null || parent === assigner || !org.isBelow(parent, assigner))
      return { ok: true, action: 'escalate', next: { state: 'signed', chain: p.chain.slice(0, -1) } };
    return { ok: true, action: 'escalate', next: { state: 'assigned', chain: [...p.chain.slice(0, -1), parent] } };
  }
  if (parent === null) return null;
  return { ok: true, action: 'escalate', next: { state: 'reported', chain: [parent] } };
}

export type OrgLevelRouting = Record<AlertLevel, OrgLevel>;

/**
 * 四事分办: the unit that should handle a matter at `place`, given its level.
 * `lineage` is the place's unit and its ancestors, top first. When the tree
 * has no unit at the wanted level (a county without villages), the deepest
 * unit above it gets the order.
 */
export function routeTarget(
  lineage: { id: number; level: OrgLevel }[],
  level: AlertLevel,
  routing: OrgLevelRouting,
): number {
  const order: OrgLevel[] = ['county', 'township', 'village'];
  const want = order.indexOf(routing[level]);
  let best = lineage[0];
  for (const u of lineage) if (order.indexOf(u.level) <= want) best = u;
  if (!best) throw new Error('empty org lineage');
  return best.id;
}

/** Which deadline an order in `state` is running against, if any. */
export function deadlineKind(state: OrderState): 'sign' | 'handle' | null {
  if (state === 'reported' || state === 'assigned') return 'sign';
  if (state === 'signed') return 'handle';
  return null;
}
