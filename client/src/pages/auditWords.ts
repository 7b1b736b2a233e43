/**
 * The audit log's codes as words (issue 17): every action the server
 * records, the kinds of object, and the detail keys and values worth showing.
 * An action missing here still reads as its family (工单操作) with the code in
 * a tooltip.
 */
import type { MessageKey } from '../i18n.tsx';

export const AUDIT_ACTIONS: Record<string, MessageKey> = {
  'auth.login': 'audit.action.auth.login',
  'auth.logout': 'audit.action.auth.logout',
  'auth.password': 'audit.action.auth.password',
  'authz.denied': 'audit.action.authz.denied',
  'user.create': 'audit.action.user.create',
  'user.update': 'audit.action.user.update',
  'camera.create': 'audit.action.camera.create',
  'camera.update': 'audit.action.camera.update',
  'camera.delete': 'audit.action.camera.delete',
  'camera.import': 'audit.action.camera.import',
  'camera.export': 'audit.action.camera.export',
  'camera.ptz': 'audit.action.camera.ptz',
  'camera.snapshot': 'audit.action.camera.snapshot',
  'camera.preset_places': 'audit.action.camera.preset_places',
  'stream.view': 'audit.action.stream.view',
  'discovery.scan': 'audit.action.discovery.scan',
  'discovery.confirm': 'audit.action.discovery.confirm',
  'alert.ingest': 'audit.action.alert.ingest',
  'alert.report': 'audit.action.alert.report',
  'alert.ack': 'audit.action.alert.ack',
  'alert.false-alarm': 'audit.action.alert.false_alarm',
  'alert.close': 'audit.action.alert.close',
  'alert.export': 'audit.action.alert.export',
  'alert_source.create': 'audit.action.alert_source.create',
  'order.create': 'audit.action.order.create',
  'order.upload': 'audit.action.order.upload',
  'order.assign': 'order.action.assign',
  'order.sign': 'order.action.sign',
  'order.reassign': 'order.action.reassign',
  'order.feedback': 'order.action.feedback',
  'order.approve': 'order.action.approve',
  'order.close': 'order.action.close',
  'order.return': 'order.action.return',
  'order.escalate': 'order.action.escalate',
  'order.supervise': 'order.action.supervise',
  'wall.create': 'audit.action.wall.create',
  'wall.rename': 'audit.action.wall.rename',
  'wall.delete': 'audit.action.wall.delete',
  'wall.push': 'audit.action.wall.push',
  'wall.kiosk.issue': 'audit.action.wall.kiosk.issue',
  'wall.kiosk.revoke': 'audit.action.wall.kiosk.revoke',
  'wall.kiosk.login': 'audit.action.wall.kiosk.login',
  'network.create': 'audit.action.network.create',
  'network.update': 'audit.action.network.update',
  'network.delete': 'audit.action.network.delete',
  'ingest.key': 'audit.action.ingest.key',
  'ingest.publish': 'audit.action.ingest.publish',
  'audit.export': 'audit.action.audit.export',
};

/** Kinds of action, for the filter and for actions without a label of their own. */
export const AUDIT_FAMILIES: Record<string, MessageKey> = {
  auth: 'audit.family.auth',
  user: 'audit.family.user',
  camera: 'audit.family.camera',
  stream: 'audit.family.stream',
  discovery: 'audit.family.discovery',
  alert: 'audit.family.alert',
  alert_source: 'audit.family.alert_source',
  order: 'audit.family.order',
  wall: 'audit.family.wall',
  network: 'audit.family.network',
  ingest: 'audit.family.ingest',
  audit: 'audit.family.audit',
};

export const TARGET_TYPES: Record<string, MessageKey> = {
  camera: 'audit.target.camera',
  user: 'audit.target.user',
  alert: 'audit.target.alert',
  alert_source: 'audit.target.alert_source',
  order: 'audit.target.order',
  wall_screen: 'audit.target.wall_screen',
  network: 'audit.target.network',
  org_unit: 'audit.target.org_unit',
  scan: 'audit.target.scan',
};

export const DETAIL_KEYS: Record<string, MessageKey> = {
  reason: 'audit.detail.reason',
  name: 'audit.detail.name',
  from: 'audit.detail.from',
  username: 'audit.detail.username',
  role: 'audit.detail.role',
  rows: 'audit.detail.rows',
  created: 'audit.detail.created',
  errors: 'audit.detail.errors',
  endedSessions: 'audit.detail.endedSessions',
  passwordReset: 'audit.detail.passwordReset',
  quality: 'audit.detail.quality',
  preset: 'audit.detail.preset',
  revoked: 'audit.detail.revoked',
};

export const DETAIL_VALUES: Record<string, MessageKey> = {
  bad_credentials: 'audit.value.bad_credentials',
  disabled: 'audit.value.disabled',
  rate_limited: 'audit.value.rate_limited',
  wrong_key: 'audit.value.wrong_key',
  no_key: 'audit.value.no_key',
  main: 'live.main',
  sub: 'live.sub',
  admin: 'role.admin',
  county_officer: 'role.county_officer',
  township_operator: 'role.township_operator',
  technician: 'role.technician',
  viewer: 'role.viewer',
};
