/**
 * Fetches the binary point feed (GET /walls/points.bin, issue 15) with the
 * window's session (cookie, or a kiosk window's bearer token) and decodes it
 * into typed arrays without parsing anything.
 */
import { decodePointFeed, type PointColumns } from '@api/point-feed.ts';
import { API_BASE, ApiError, NETWORK_ERROR_STATUS, isAbort, windowSession } from '../api.ts';

/** `query`: the registry's filters as a query string (empty: the whole jurisdiction). */
export async function fetchPointFeed(query: string, signal?: AbortSignal): Promise<PointColumns> {
  const headers: Record<string, string> = {};
  const bearer = windowSession();
  if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}/walls/points.bin${query ? `?${query}` : ''}`, {
      headers,
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(NETWORK_ERROR_STATUS, 'network', err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) throw new ApiError(res.status, 'point_feed', `points.bin: ${res.status}`);
  return decodePointFeed(await res.arrayBuffer());
}
