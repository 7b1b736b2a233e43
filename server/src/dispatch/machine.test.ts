import { describe, expect, it } from 'vitest';
import { availableActions, decide, escalation, routeTarget, type OrgFacts, type OrderPosition } from './machine.ts';

// County 1 → townships 2, 3 → villages 4, 5 (under 2) and 6 (under 3). The place is in village 4.
const parent: Record<number, number | null> = { 1: null, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3 };
const ancestors = (id: number): number[] => (parent[id] == null ? [] : [parent[id]!, ...ancestors(parent[id]!)]);
const org: OrgFacts = {
  parentOf: (id) => parent[id] ?? null,
  isBelow: (a, b) => ancestors(a).includes(b),
  ownsPlace: (id) => id === 4 || ancestors(4).includes(id),
};
const at = (state: OrderPosition['state'], ...chain: number[]): OrderPosition => ({ state, chain });

describe('decide', () => {
  it('walks the whole loop county → township → village and back up', () => {
    let p = at('reported', 1);
    const step = (a: Parameters<typeof decide>[1], unit: number, target?: number) => {
      const d = decide(p, a, unit, org, target === undefined ? {} : { target });
      if (!d.ok) throw new Error(d.reason);
      p = d.next;
      return d.action;
    };
    expect(step('assign', 1, 2)).toBe('assign');
    expect(p).toEqual(at('assigned', 1, 2));
    step('sign', 2);
    step('reassign', 2, 4);
    expect(p).toEqual(at('assigned', 1, 2, 4));
    step('sign', 4);
    step('feedback', 4);
    expect(step('close', 2)).toBe('approve');
    expect(p).toEqual(at('fed_back', 1, 2));
    expect(step('close', 1)).toBe('close');
    expect(p.state).toBe('closed');
  });

  it('gives each step to exactly one unit and answers the others 403', () => {
    const p = at('assigned', 1, 2);
    for (const unit of [1, 3, 4]) expect(decide(p, 'sign', unit, org)).toMatchObject({ ok: false, status: 403 });
    expect(decide(at('fed_back', 1, 2), 'close', 2, org)).toMatchObject({ ok: false, status: 403 });
    expect(decide(at('fed_back', 1, 2), 'return', 2, org)).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 409 for a step the state does not allow, and for closed orders', () => {
    expect(decide(at('assigned', 1, 2), 'feedback', 2, org)).toMatchObject({ ok: false, status: 409 });
    expect(decide(at('signed', 1, 2), 'close', 1, org)).toMatchObject({ ok: false, status: 409 });
    for (const a of ['assign', 'sign', 'reassign', 'feedback', 'close', 'return', 'escalate'] as const)
      expect(decide(at('closed', 1, 2), a, 1, org, { target: 4 })).toMatchObject({ ok: false, status: 409 });
  });

  it('assigns only downwards and only to units that own the place', () => {
    expect(decide(at('reported', 1), 'assign', 1, org, { target: 3 })).toMatchObject({ ok: false, status: 400 });
    expect(decide(at('reported', 1), 'assign', 1, org, { target: 6 })).toMatchObject({ ok: false, status: 400 });
    expect(decide(at('reported', 2), 'assign', 2, org, { target: 1 })).toMatchObject({ ok: false, status: 400 });
    expect(decide(at('reported', 1), 'assign', 1, org, { target: 1 })).toMatchObject({ ok: false, status: 400 });
    expect(decide(at('reported', 1), 'assign', 1, org, {})).toMatchObject({ ok: false, status: 400 });
    expect(decide(at('reported', 1), 'assign', 1, org, { target: 4 })).toMatchObject({ ok: true });
  });

  it('return: feedback goes back to the same unit; a holder hands a wrong order back up', () => {
    expect(decide(at('fed_back', 1, 2), 'return', 1, org)).toMatchObject({ ok: true, next: at('signed', 1, 2) });
    expect(decide(at('assigned', 1, 2), 'return', 2, org)).toMatchObject({ ok: true, next: at('reported', 1) });
    expect(decide(at('signed', 1, 2, 4), 'return', 4, org)).toMatchObject({ ok: true, next: at('signed', 1, 2) });
    expect(decide(at('reported', 1), 'return', 1, org)).toMatchObject({ ok: false, status: 409 });
  });

  it('a unit that handled its own order closes it', () => {
    expect(decide(at('signed', 2), 'close', 2, org)).toMatchObject({ ok: true, next: { state: 'closed' } });
    expect(decide(at('reported', 2), 'sign', 2, org)).toMatchObject({ ok: true, next: at('signed', 2) });
  });

  it('lists the available actions with the same rules', () => {
    expect(availableActions(at('assigned', 1, 2), 2, org).sort()).toEqual(['escalate', 'return', 'sign']);
    expect(availableActions(at('assigned', 1, 2), 1, org)).toEqual([]);
    expect(availableActions(at('fed_back', 1, 2), 1, org).sort()).toEqual(['close', 'return']);
  });
});

describe('escalation', () => {
  it('moves up one level of the tree', () => {
    expect(escalation(at('signed', 1, 2, 4), org)).toMatchObject({ next: at('signed', 1, 2) });
    // The county assigned straight to the village: the township it skipped takes it and must sign.
    expect(escalation(at('assigned', 1, 4), org)).toMatchObject({ next: at('assigned', 1, 2) });
    expect(escalation(at('assigned', 1, 2), org)).toMatchObject({ next: at('signed', 1) });
    expect(escalation(at('reported', 2), org)).toMatchObject({ next: at('reported', 1) });
    expect(escalation(at('signed', 1), org)).toBeNull();
    expect(escalation(at('fed_back', 1, 2), org)).toBeNull();
  });
});

describe('routeTarget (四事分办)', () => {
  const lineage = [
    { id: 1, level: 'county' as const },
    { id: 2, level: 'township' as const },
    { id: 4, level: 'village' as const },
  ];
  const routing = { blue: 'village', yellow: 'village', orange: 'township', red: 'county' } as const;
  it('sends each level to its unit, and to the deepest unit above when the tree is shallower', () => {
    expect(routeTarget(lineage, 'blue', routing)).toBe(4);
    expect(routeTarget(lineage, 'orange', routing)).toBe(2);
    expect(routeTarget(lineage, 'red', routing)).toBe(1);
    expect(routeTarget(lineage.slice(0, 2), 'blue', routing)).toBe(2);
  });
});
