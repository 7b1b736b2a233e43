import type { Permission, Role } from '../api/contract.ts';

/** Work orders and the wall: the same for every role that takes part in dispatch. */
const DISPATCH_AND_WALL: readonly Permission[] = [
  'order.read',
  'order.create',
  'order.handle',
  'order.stats',
  'wall.read',
  'wall.write',
  'wall.dispatch',
];

/** A duty officer's grants, at the county or a township center. */
const OFFICER: readonly Permission[] = [
  'camera.control',
  'camera.read',
  'camera.export',
  'org.read',
  'alert.read',
  'alert.handle',
  'alert.report',
  'quality.read',
  'report.read',
  'recording.read',
  'recording.export',
  ...DISPATCH_AND_WALL,
];

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
    'alert.read',
    'alert.handle',
    'alert.report',
    'alert.source.manage',
    'network.manage',
    'quality.read',
    'quality.manage',
    'report.read',
    'recording.read',
    'recording.manage',
    'recording.export',
    ...DISPATCH_AND_WALL,
  ],
  county_officer: OFFICER,
  // The same duties as the county's officer; the jurisdiction (org subtree) is what differs.
  township_operator: OFFICER,
  // 运维/点位登记: registers and maintains points.
  technician: [
    'camera.control',
    'camera.read',
    'camera.write',
    'camera.import',
    'camera.export',
    'discovery.scan',
    'org.read',
    'alert.read',
    'wall.read',
    // 视频质量诊断: the technician fixes what the diagnosis finds, and renews a moved point's reference.
    'quality.read',
    'quality.manage',
    // Fixes recorders that stop; sets record plans for the points it maintains.
    'recording.read',
    'recording.manage',
  ],
  viewer: [
    'camera.read',
    'org.read',
    'alert.read',
    'order.read',
    'order.stats',
    'wall.read',
    'quality.read',
    'report.read',
  ],
};

export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

export function can(role: Role, p: Permission): boolean {
  return GRANTS[role].includes(p);
}
