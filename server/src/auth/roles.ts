import type { Permission, Role } from '../api/contract.ts';

/**
 * What each role may do. Jurisdiction (the org subtree) limits every one of
 * these further; a permission never widens the scope.
 */
const GRANTS: Record<Role, readonly Permission[]> = {
  admin: [
    'camera.read',
    'camera.write',
    'camera.control',
    'camera.import',
    'camera.export',
    'org.read',
    'audit.read',
    'user.read',
    'user.write',
  ],
  county_officer: ['camera.control', 'camera.read', 'camera.export', 'org.read'],
  township_operator: ['camera.control', 'camera.read', 'camera.export', 'org.read'],
  // 运维/点位登记: registers and maintains points.
  technician: [
    'camera.control',
    'camera.read',
    'camera.write',
    'camera.import',
    'camera.export',
    'discovery.scan',
    'org.read',
  ],
  viewer: ['camera.read', 'org.read'],
};

export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

export function can(role: Role, p: Permission): boolean {
  return GRANTS[role].includes(p);
}
