/** 视频质量诊断, 完好率 and the leaders' reports over /api/v1, through the shared wrapper in api.ts. */
import type {
  IntactRateReport,
  QualityKind,
  QualityPointDetail,
  QualityPointView,
  QualityStatus,
  QualitySweepView,
  QualityTrendPoint,
  ReportView,
} from '@api/contract.ts';
import { API_BASE, request } from '../api.ts';

export type Period = ReportView['period'];

export interface PointsFilter {
  org?: number;
  network?: string;
  quality?: QualityStatus;
  kind?: QualityKind;
  cursor?: string;
}

const qs = (o: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

export const qualityApi = {
  points: (f: PointsFilter, signal?: AbortSignal) =>
    request<{ items: QualityPointView[]; nextCursor: string | null }>(
      `/quality/points${qs({ ...f, limit: 100 })}`,
      signal ? { signal } : {},
    ),
  point: (id: number, signal?: AbortSignal) =>
    request<QualityPointDetail>(`/quality/points/${id}`, signal ? { signal } : {}),
  renewReference: (id: number) => request<QualityPointDetail>(`/quality/points/${id}/reference`, { method: 'POST' }),
  sweeps: (signal?: AbortSignal) => request<QualitySweepView[]>('/quality/sweeps', signal ? { signal } : {}),
  startSweep: (body: { orgUnitId?: number; networkId?: string }) =>
    request<QualitySweepView>('/quality/sweeps', { method: 'POST', json: body }),
  intactRate: (orgUnitId: number, signal?: AbortSignal) =>
    request<IntactRateReport>(`/quality/intact-rate${qs({ orgUnitId })}`, signal ? { signal } : {}),
  trend: (q: { orgUnitId: number; period: Period }, signal?: AbortSignal) =>
    request<{ points: QualityTrendPoint[] }>(`/quality/trend${qs(q)}`, signal ? { signal } : {}),
  report: (q: { orgUnitId: number; period: Period; date?: string }, signal?: AbortSignal) =>
    request<ReportView>(`/reports${qs(q)}`, signal ? { signal } : {}),
};

export const thumbnailUrl = (checkId: number) => `${API_BASE}/quality/checks/${checkId}/thumbnail.jpg`;
export const referenceUrl = (cameraId: number) => `${API_BASE}/quality/points/${cameraId}/reference.jpg`;
export const reportFileUrl = (
  format: 'xlsx' | 'pdf',
  q: { orgUnitId: number; period: Period; date?: string; lang: 'zh' | 'en' },
) => `${API_BASE}/reports.${format}${qs(q)}`;
