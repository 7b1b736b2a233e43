/**
 * The simulator's picture-fault set (issue 16), shared by the diagnosis test and `npm run bench:diagnosis`:
 * which diagnosis each simulated fault must produce, and the confusion matrix of what came out.
 */
import type { QualityKind } from '../../server/src/api/contract.ts';
import type { SimFaults, SimPictureFault } from '../../scripts/sim/index.ts';

/** A camera of the set: good, a picture fault, or offline (no signal). */
export type Injected = 'good' | SimPictureFault | 'offline';

/** What the diagnosis must say about each: the exact list of kinds. */
export const EXPECTED: Record<Injected, QualityKind[]> = {
  good: [],
  black: ['black'],
  dark: ['dark'],
  overexposed: ['overexposed'],
  frozen: ['frozen'],
  blurred: ['blur'],
  covered: ['occlusion'],
  colorCast: ['color_cast'],
  noisy: ['noise'],
  moved: ['scene_change'],
  offline: ['no_signal'],
};

export const INJECTED: readonly Injected[] = Object.keys(EXPECTED) as Injected[];

export function simFaultsOf(i: Injected): SimFaults {
  if (i === 'good') return {};
  if (i === 'offline') return { offline: true };
  return { picture: i };
}

export interface Outcome {
  injected: Injected;
  kinds: QualityKind[];
}

/** The main kind found ('good' for none); a right answer is exactly the expected list. */
const found = (o: Outcome) => o.kinds[0] ?? 'good';
const right = (o: Outcome) => o.kinds.join(',') === EXPECTED[o.injected].join(',');

export function confusion(outcomes: readonly Outcome[]): { table: string; accuracy: number; wrong: Outcome[] } {
  const cols = ['good', ...new Set(INJECTED.flatMap((i) => EXPECTED[i]))] as string[];
  for (const o of outcomes) if (!cols.includes(found(o))) cols.push(found(o));
  const rows = INJECTED.filter((i) => outcomes.some((o) => o.injected === i));
  const w = 13;
  const lines = [['injected \\ found', ...cols].map((c) => c.padStart(w)).join('')];
  for (const r of rows) {
    const mine = outcomes.filter((o) => o.injected === r);
    lines.push(
      [r, ...cols.map((c) => String(mine.filter((o) => found(o) === c).length || '.'))]
        .map((c) => c.padStart(w))
        .join(''),
    );
  }
  const wrong = outcomes.filter((o) => !right(o));
  const accuracy = outcomes.length ? (outcomes.length - wrong.length) / outcomes.length : 0;
  lines.push(
    `right ${outcomes.length - wrong.length}/${outcomes.length} = ${(accuracy * 100).toFixed(1)} %` +
      (wrong.length ? `; wrong: ${wrong.map((o) => `${o.injected}→[${o.kinds.join(',')}]`).join(' ')}` : ''),
  );
  return { table: lines.join('\n'), accuracy, wrong };
}
