/**
 * The admin pages' calls (issue 17), through the one HTTP wrapper in api.ts:
 * users, alert sources, wall screens and their kiosk tokens, networks, the
 * audit log and the viewing report.
 */
import type {
  AlertSourceIssued,
  AlertSourceView,
  AuditEntry,
  NetworkView,
  Page,
  PasswordChange,
  UserInput,
  UserUpdate,
  UserView,
  ViewSessionEntry,
  WallKioskTokenIssued,
  WallKioskTokenRecord,
  WallScreenView,
} from '@api/contract.ts';
import { API_BASE, request } from '../api.ts';

/** What the audit page filters by (GET /audit and /audit/export.csv take the same). */
export interface AuditQuery {
  action?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  user?: string;
  targetType?: string;
  targetId?: string;
  /** ISO instants. */
  from?: string;
  to?: string;
}

export interface ViewQuery {
  camera?: number;
  user?: string;
  from?: string;
  to?: string;
}

function qs(entries: [string, string | number | undefined | null][]): string {
  const params = new URLSearchParams();
  for (const [k, v] of entries) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const auditEntries = (q: AuditQuery): [string, string | undefined][] => [
  ['action', q.action],
  ['outcome', q.outcome],
  ['user', q.user],
  ['targetType', q.targetType],
  ['targetId', q.targetId],
  ['from', q.from],
  ['to', q.to],
];

export const adminApi = {
  users: (signal?: AbortSignal) => request<UserView[]>('/users', { signal }),
  /** The org unit may be left out (not chosen yet): the server then names it as required. */
  createUser: (body: Omit<UserInput, 'orgUnitId'> & { orgUnitId?: number }) =>
    request<UserView>('/users', { method: 'POST', json: body }),
  updateUser: (id: number, body: UserUpdate) => request<UserView>(`/users/${id}`, { method: 'PATCH', json: body }),
  changeOwnPassword: (body: PasswordChange) =>
    request<null>('/auth/password', { method: 'POST', json: body }).then(() => undefined),

  sources: (signal?: AbortSignal) => request<AlertSourceView[]>('/alert-sources', { signal }),
  createSource: (body: { name: string; orgUnitId?: number; rateLimitPerMinute?: number }) =>
    request<AlertSourceIssued>('/alert-sources', { method: 'POST', json: body }),

  screens: (signal?: AbortSignal) => request<WallScreenView[]>('/walls', { signal }),
  renameScreen: (id: number, name: string) =>
    request<WallScreenView>(`/walls/${id}`, { method: 'PATCH', json: { name } }),
  deleteScreen: (id: number) => request<null>(`/walls/${id}`, { method: 'DELETE' }).then(() => undefined),
  kioskTokens: (id: number, signal?: AbortSignal) =>
    request<WallKioskTokenRecord[]>(`/walls/${id}/kiosk-tokens`, { signal }),
  issueKiosk: (id: number) => request<WallKioskTokenIssued>(`/walls/${id}/kiosk-token`, { method: 'POST' }),
  revokeKiosk: (id: number) => request<null>(`/walls/${id}/kiosk-token`, { method: 'DELETE' }).then(() => undefined),

  networks: (signal?: AbortSignal) => request<NetworkView[]>('/networks', { signal }),
  createNetwork: (body: { id: string; name: string; nameEn: string }) =>
    request<NetworkView>('/networks', { method: 'POST', json: body }),
  renameNetwork: (id: string, body: { name?: string; nameEn?: string }) =>
    request<NetworkView>(`/networks/${encodeURIComponent(id)}`, { method: 'PATCH', json: body }),
  deleteNetwork: (id: string) =>
    request<null>(`/networks/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(() => undefined),

  audit: (q: AuditQuery, cursor: string | null, signal?: AbortSignal) =>
    request<Page<AuditEntry>>(`/audit${qs([...auditEntries(q), ['limit', 100], ['cursor', cursor]])}`, { signal }),
  viewSessions: (q: ViewQuery, cursor: string | null, signal?: AbortSignal) =>
    request<Page<ViewSessionEntry>>(
      `/audit/view-sessions${qs([
        ['camera', q.camera],
        ['user', q.user],
        ['from', q.from],
        ['to', q.to],
        ['limit', 100],
        ['cursor', cursor],
      ])}`,
      { signal },
    ),
};

/** The CSV export of the audit log with the page's filters. */
export function auditExportUrl(q: AuditQuery, lang: 'zh-CN' | 'en'): string {
  return `${API_BASE}/audit/export.csv${qs([...auditEntries(q), ['lang', lang]])}`;
}

/** Where a kiosk PC signs in (chromium --kiosk <this>): absolute, to copy onto the screen's PC. */
export function kioskSignInUrl(issued: WallKioskTokenIssued): string {
  return new URL(issued.url, window.location.origin).toString();
}
