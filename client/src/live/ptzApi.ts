/** Presets stored on and removed from a dome (POST/DELETE /cameras/:id/ptz/presets), through api.ts's wrapper. */
import type { PtzPresetView } from '@api/contract.ts';
import { request } from '../api.ts';

export const ptzApi = {
  setPreset: (cameraId: number, name: string) =>
    request<PtzPresetView>(`/cameras/${cameraId}/ptz/presets`, { method: 'POST', json: { name } }),
  removePreset: (cameraId: number, token: string) =>
    request<null>(`/cameras/${cameraId}/ptz/presets/${encodeURIComponent(token)}`, { method: 'DELETE' }).then(
      () => undefined,
    ),
};
