/**
 * Jurisdiction. Every org unit has a materialised path (`/1/4/17/`); a caller
 * whose unit has path P may see exactly the records whose org path starts with P.
 */
export interface Scope {
  orgUnitId: number;
  path: string;
}

/**
 * Every record, for internal work that acts on no caller's behalf (health,
 * relay token checks, alert linkage). Never derive it from a request.
 */
export const WHOLE_REGISTRY: Scope = { orgUnitId: 0, path: '/' };

export function inScope(scope: Scope, orgPath: string): boolean {
  return orgPath.startsWith(scope.path);
}

/**
 * Half-open range [lo, hi) of org paths under `path`, for index range scans
 * that work the same in SQLite and PostgreSQL (paths hold only digits and
 * '/', and '0' sorts right after '/').
 */
export function pathRange(path: string): [string, string] {
  if (!path.endsWith('/')) throw new Error(`org path must end with '/': ${path}`);
  return [path, path.slice(0, -1) + '0'];
}
