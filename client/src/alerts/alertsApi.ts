/** The alert list's and detail page's calls (issue 17), through the one HTTP wrapper in api.ts. */
import type { AlertDetail, AlertLevel, AlertStatus, AlertType, AlertView, Page } from '@api/contract.ts';
import { API_BASE, request } from '../api.ts';

/** The list's filters, as the server takes them (GET /alerts/search, /alerts/export.csv). */
export interface AlertQuery {
  levels: AlertLevel[];
  types: AlertType[];
  statuses: AlertStatus[];
  /** An org unit: it and everything under it. */
  org: number | null;
  /** ISO instants; alerts active in [from, to]. */
  from: string | null;
  to: string | null;
  q: string;
}

export const NO_FILTER: AlertQuery = { levels: [], types: [], statuses: [], org: null, from: null, to: null, q: '' };

function params(query: AlertQuery, extra: Record<string, string | number | null> = {}): string {
  const p = new URLSearchParams();
  if (query.levels.length) p.set('level', query.levels.join(','));
  if (query.types.length) p.set('type', query.types.join(','));
  if (query.statuses.length) p.set('status', query.statuses.join(','));
  if (query.org !== null) p.set('org', String(query.org));
  if (query.from) p.set('from', query.from);
  if (query.to) p.set('to', query.to);
  if (query.q.trim()) p.set('q', query.q.trim());
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const alertsApi = {
  search: (query: AlertQuery, cursor: string | null, limit: number, signal?: AbortSignal) =>
    request<Page<AlertView>>(`/alerts/search${params(query, { limit, cursor })}`, { signal }),
  detail: (id: number, signal?: AbortSignal) => request<AlertDetail>(`/alerts/${id}`, { signal }),
};

/** Link target of the CSV export of the same selection (the server audits it). */
export function alertExportUrl(query: AlertQuery, header: 'zh' | 'en'): string {
  return `${API_BASE}/alerts/export.csv${params(query, { header })}`;
}

/** The JPEG stored with an alert when it arrived. */
export function alertSnapshotUrl(id: number): string {
  return `${API_BASE}/alerts/${id}/snapshot.jpg`;
}
