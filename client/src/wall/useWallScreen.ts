import { useCallback, useEffect, useRef, useState } from 'react';
import type { ServerToClientEvents, WallLayout, WallScreenView } from '@api/contract.ts';
import { ApiError, bootAnswer, isAbort } from '../api.ts';
import { useRealtime } from '../realtime.tsx';
import { wallApi } from './wallApi.ts';

const SAVE_DELAY_MS = 400;
const RETRY_MS = 5_000;

export type ScreenLoad = { state: 'loading' } | { state: 'ready' } | { state: 'error'; error: unknown };

/**
 * One wall screen's saved layout: loaded, saved after each change with the
 * version it was loaded at (a 409 takes the server's layout), and updated when
 * another window saves it ('wall:updated'). Loading and saving retry on their
 * own, so a screen survives a server restart without a reload.
 */
export function useWallScreen(screenId: number | null, canSave: boolean) {
  const { socket } = useRealtime();
  // A page opened on this screen has it from the early answer (/wall-boot.js): the wall mounts with its layout
  // in the first render, and that first request is not sent again.
  const [early] = useState(() => (screenId === null ? undefined : bootAnswer<WallScreenView>(`/walls/${screenId}`)));
  const [screen, setScreen] = useState<WallScreenView | null>(early?.value ?? null);
  const [layout, setLayoutState] = useState<WallLayout | null>(early?.value.layout ?? null);
  const [load, setLoad] = useState<ScreenLoad>(early ? { state: 'ready' } : { state: 'loading' });
  const [conflict, setConflict] = useState(false);
  const version = useRef(early?.value.version ?? 0);
  /** The screen the early answer was for, until the effect has seen it once. */
  const bootedFor = useRef(early ? screenId : null);
  const dirty = useRef<WallLayout | null>(null);
  const saveTimer = useRef<number | undefined>(undefined);
  const saving = useRef(false);

  useEffect(() => {
    if (screenId === null) return;
    if (bootedFor.current === screenId) {
      bootedFor.current = null;
      return;
    }
    const controller = new AbortController();
    let retry: number | undefined;
    const fetchScreen = () => {
      wallApi.get(screenId, controller.signal).then(
        (s) => {
          version.current = s.version;
          setScreen(s);
          setLayoutState(s.layout);
          setLoad({ state: 'ready' });
        },
        (err: unknown) => {
          if (isAbort(err)) return;
          setLoad({ state: 'error', error: err });
          if (!(err instanceof ApiError) || err.status >= 500 || err.status === 0) {
            retry = window.setTimeout(fetchScreen, RETRY_MS);
          }
        },
      );
    };
    setLoad({ state: 'loading' });
    fetchScreen();
    return () => {
      controller.abort();
      window.clearTimeout(retry);
    };
  }, [screenId]);

  const flush = useCallback(async () => {
    const next = dirty.current;
    if (screenId === null || next === null || saving.current) return;
    saving.current = true;
    dirty.current = null;
    try {
      const saved = await wallApi.saveLayout(screenId, version.current, next);
      version.current = saved.version;
      setScreen(saved);
      setConflict(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // Another window or user saved first: theirs stands, shown here at once.
        const current = await wallApi.get(screenId).catch(() => null);
        if (current) {
          version.current = current.version;
          setScreen(current);
          if (dirty.current === null) setLayoutState(current.layout);
        }
        setConflict(true);
      } else if (!(err instanceof ApiError) || err.status === 0 || err.status >= 500) {
        // Server away: keep the change and try again.
        dirty.current ??= next;
        window.clearTimeout(saveTimer.current);
        saveTimer.current = window.setTimeout(() => void flush(), RETRY_MS);
      }
    } finally {
      saving.current = false;
    }
    if (dirty.current !== null) {
      window.clearTimeout(saveTimer.current);
      saveTimer.current = window.setTimeout(() => void flush(), SAVE_DELAY_MS);
    }
  }, [screenId]);

  useEffect(() => () => window.clearTimeout(saveTimer.current), []);

  /** Shows a layout; `save` also stores it for the screen (a pushed view is shown, not stored). */
  const setLayout = useCallback(
    (next: WallLayout, save = true) => {
      setLayoutState(next);
      if (!save || !canSave) return;
      dirty.current = next;
      window.clearTimeout(saveTimer.current);
      saveTimer.current = window.setTimeout(() => void flush(), SAVE_DELAY_MS);
    },
    [canSave, flush],
  );

  useEffect(() => {
    if (!socket || screenId === null) return;
    const onUpdated: ServerToClientEvents['wall:updated'] = (s) => {
      if (s.id !== screenId || s.version <= version.current || dirty.current !== null) return;
      version.current = s.version;
      setScreen(s);
      setLayoutState(s.layout);
    };
    socket.on('wall:updated', onUpdated);
    return () => {
      socket.off('wall:updated', onUpdated);
    };
  }, [socket, screenId]);

  return { screen, layout, load, conflict, setLayout };
}
