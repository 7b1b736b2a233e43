/** The wall's endpoints (/api/v1/walls), through the client's one HTTP helper. */
import type { WallLayout, WallPointsResponse, WallScreenView } from '@api/contract.ts';
import { request } from '../api.ts';

export const wallApi = {
  list: (signal?: AbortSignal) => request<WallScreenView[]>('/walls', { signal }),
  get: (id: number, signal?: AbortSignal) => request<WallScreenView>(`/walls/${id}`, { signal }),
  create: (name: string) => request<WallScreenView>('/walls', { method: 'POST', json: { name } }),
  saveLayout: (id: number, version: number, layout: WallLayout) =>
    request<WallScreenView>(`/walls/${id}/layout`, { method: 'PUT', json: { version, layout } }),
  points: (signal?: AbortSignal) => request<WallPointsResponse>('/walls/points', { signal }),
};
