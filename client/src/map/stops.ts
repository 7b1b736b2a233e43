/**
 * Piecewise-linear paint values, kept as data: the map's style turns them into maplibre `interpolate`
 * expressions, and the wall's first picture (firstPicture.ts), drawn before maplibre is ready, evaluates
 * the same stops itself. One table, two readers: the picture cannot drift from the map.
 */
import type { ExpressionSpecification } from 'maplibre-gl';

/** [input, output] pairs, inputs ascending. */
export type Stops<T extends number | string> = readonly (readonly [number, T])[];

/** `['interpolate', ['linear'], input, i0, o0, i1, o1, …]`. */
export function interpolateExpression<T extends number | string>(
  input: ExpressionSpecification,
  stops: Stops<T>,
): ExpressionSpecification {
  return ['interpolate', ['linear'], input, ...stops.flat()] as unknown as ExpressionSpecification;
}

/** Where `x` falls: the index of the stop below it and the fraction towards the next (clamped at both ends). */
function locate(stops: Stops<number | string>, x: number): { i: number; t: number } {
  if (x <= stops[0]![0]) return { i: 0, t: 0 };
  for (let i = 0; i < stops.length - 1; i++) {
    const [a, b] = [stops[i]![0], stops[i + 1]![0]];
    if (x < b) return { i, t: (x - a) / (b - a) };
  }
  return { i: stops.length - 1, t: 0 };
}

/** A number stop table at `x`, as maplibre's linear interpolation gives it. */
export function numberAt(stops: Stops<number>, x: number): number {
  const { i, t } = locate(stops, x);
  const a = stops[i]![1];
  const b = stops[Math.min(i + 1, stops.length - 1)]![1];
  return a + (b - a) * t;
}

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) as [number, number, number];
}

/** A colour stop table (`#rrggbb`) at `x`, interpolated in RGB as maplibre's `interpolate` does. */
export function colorAt(stops: Stops<string>, x: number): string {
  const { i, t } = locate(stops, x);
  const a = rgb(stops[i]![1]);
  const b = rgb(stops[Math.min(i + 1, stops.length - 1)]![1]);
  return `#${a
    .map((v, k) =>
      Math.round(v + (b[k]! - v) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}
