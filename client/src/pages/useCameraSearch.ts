import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { CameraPointView, CameraSearchQuery, CameraStatusEvent } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';

export interface CameraSearchState {
  /** Key of the query the items belong to (changes only when a new first page arrives). */
  key: string | null;
  items: CameraPointView[];
  nextCursor: string | null;
  total: number | null;
  loading: boolean;
  error: unknown;
}

const INITIAL: CameraSearchState = { key: null, items: [], nextCursor: null, total: null, loading: true, error: null };

/**
 * Cursor-paged camera search. A new query (or a refresh) replaces the list
 * with its first page; `loadMore` appends the next one. Out-of-date answers
 * are aborted so a slow first page cannot overwrite a newer one.
 */
export function useCameraSearch(query: CameraSearchQuery, refreshToken: number) {
  const [state, setState] = useState<CameraSearchState>(INITIAL);
  const key = JSON.stringify(query);
  const queryRef = useRef(query);
  useLayoutEffect(() => {
    queryRef.current = query;
  });
  const moreController = useRef<AbortController | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    moreController.current?.abort();
    setState((prev) => ({ ...prev, loading: true, error: null }));
    api.searchCameras(queryRef.current, controller.signal).then(
      (page) =>
        setState({
          key,
          items: page.items,
          nextCursor: page.nextCursor,
          total: page.total ?? null,
          loading: false,
          error: null,
        }),
      (error: unknown) => {
        if (!isAbort(error)) setState((prev) => ({ ...prev, loading: false, error }));
      },
    );
    return () => controller.abort();
  }, [key, refreshToken]);

  const loadMore = useCallback(() => {
    const cursor = state.nextCursor;
    if (!cursor || state.loading) return;
    const controller = new AbortController();
    moreController.current = controller;
    setState((prev) => ({ ...prev, loading: true, error: null }));
    api.searchCameras({ ...queryRef.current, cursor }, controller.signal).then(
      (page) =>
        setState((prev) => ({
          ...prev,
          items: [...prev.items, ...page.items.filter((c) => !prev.items.some((p) => p.id === c.id))],
          nextCursor: page.nextCursor,
          total: page.total ?? prev.total,
          loading: false,
        })),
      (error: unknown) => {
        if (!isAbort(error)) setState((prev) => ({ ...prev, loading: false, error }));
      },
    );
  }, [state.nextCursor, state.loading]);

  /** Applies a realtime change to the loaded rows without refetching. */
  const patchItem = useCallback((id: number, camera: CameraPointView | null) => {
    setState((prev) => {
      if (!prev.items.some((c) => c.id === id)) return prev;
      if (camera) return { ...prev, items: prev.items.map((c) => (c.id === id ? camera : c)) };
      return {
        ...prev,
        items: prev.items.filter((c) => c.id !== id),
        total: prev.total === null ? null : Math.max(0, prev.total - 1),
      };
    });
  }, []);

  /** A health check changed a point's status: update its badge in place (the row stays even if a status filter no longer matches). */
  const patchStatus = useCallback((event: CameraStatusEvent) => {
    setState((prev) => {
      if (!prev.items.some((c) => c.id === event.id)) return prev;
      return {
        ...prev,
        items: prev.items.map((c) =>
          c.id === event.id
            ? {
                ...c,
                status: event.status,
                statusReason: event.reason,
                // The event carries a time only when this check saw video; keep the last known one otherwise.
                lastSeenAt: event.lastSeenAt ?? c.lastSeenAt,
                lastCheckedAt: event.at,
              }
            : c,
        ),
      };
    });
  }, []);

  return { ...state, loadMore, patchItem, patchStatus };
}
