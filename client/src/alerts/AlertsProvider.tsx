/**
 * The signed-in user's alerts: one store per session, fed by `alert:new` /
 * `alert:updated` and, on every (re)connect and every `realtime:resync`, by a
 * replay from the last `seq` cursor (GET /alerts?since=, alertReplay.ts), so
 * nothing accepted is lost to a disconnect or to a fan-out outage.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AlertView } from '@api/contract.ts';
import { api, type AlertAction } from '../api.ts';
import { useRealtime } from '../realtime.tsx';
import { useSession } from '../session.tsx';
import { AlertReplay } from './alertReplay.ts';
import { isUrgent } from './alertColors.ts';
import { beep } from './beep.ts';

const PAGE = 500;
const MAX_PAGES = 40;
const SOUND_KEY = 'ccc.alertSound';

interface AlertsValue {
  enabled: boolean;
  /** Newest first (by last occurrence). */
  alerts: AlertView[];
  loading: boolean;
  error: unknown;
  /** Ids of urgent alerts that arrived live and still wait for the pop-up. */
  popupQueue: number[];
  /**
   * Alerts that arrived new while this page was open (live, or in the replay
   * after a reconnect), oldest first, at most the last 50: the wall reacts to
   * these by its own rule (minimum level, tiles taken).
   */
  arrivals: readonly number[];
  dismissPopup: (id: number) => void;
  act: (id: number, action: AlertAction, note: string) => Promise<AlertView>;
  sound: boolean;
  setSound: (on: boolean) => void;
}

const AlertsContext = createContext<AlertsValue | null>(null);

/** On unless the user turned it off (issue 17: an alarm nobody hears is no alarm). */
function storedSound(): boolean {
  try {
    return window.localStorage.getItem(SOUND_KEY) !== '0';
  } catch {
    return true;
  }
}

const MAX_ARRIVALS = 50;

export function AlertsProvider({ children }: { children: ReactNode }) {
  const { can } = useSession();
  const enabled = can('alert.read');
  const { socket } = useRealtime();
  const [byId, setById] = useState<ReadonlyMap<number, AlertView>>(new Map());
  const [loading, setLoading] = useState(enabled);
  const [error, setError] = useState<unknown>(null);
  const [popupQueue, setPopupQueue] = useState<number[]>([]);
  const [arrivals, setArrivals] = useState<number[]>([]);
  /** Every alert id this store has seen. */
  const known = useRef(new Set<number>());
  const [sound, setSoundState] = useState(storedSound);
  const soundRef = useRef(sound);
  useEffect(() => {
    soundRef.current = sound;
  }, [sound]);
  const merge = useCallback((items: readonly AlertView[]) => {
    if (items.length === 0) return;
    for (const a of items) known.current.add(a.id);
    setById((prev) => {
      const next = new Map(prev);
      for (const a of items) {
        const old = next.get(a.id);
        if (!old || old.seq <= a.seq) next.set(a.id, a);
      }
      return next;
    });
  }, []);

  useEffect(() => {
    if (!enabled || !socket) return;
    const feed = new AlertReplay({
      fetchPage: (since, limit, signal) => api.alertsSince(since, limit, signal),
      onPage: (items, catchingUp) => {
        // Alerts first seen in a replay after a reconnect or a resync arrived while pushes were lost: news for a wall.
        const missed = catchingUp
          ? items.filter((a) => a.status === 'new' && !known.current.has(a.id)).map((a) => a.id)
          : [];
        merge(items);
        if (missed.length) setArrivals((q) => [...q, ...missed].slice(-MAX_ARRIVALS));
      },
      pageSize: PAGE,
      maxPages: MAX_PAGES,
    });
    const settle = async (run: Promise<boolean>) => {
      try {
        if (await run) setError(null);
      } catch (err) {
        setError(err);
      } finally {
        if (!feed.syncing) setLoading(false);
      }
    };
    const replay = () => settle(feed.replay());

    const onLive = (alert: AlertView, isNew: boolean) => {
      merge([alert]);
      feed.live(alert.seq);
      if (isNew && alert.status === 'new')
        setArrivals((q) => (q.includes(alert.id) ? q : [...q, alert.id].slice(-MAX_ARRIVALS)));
      if (isNew && alert.status === 'new' && isUrgent(alert.level)) {
        setPopupQueue((q) => (q.includes(alert.id) ? q : [...q, alert.id]));
        if (soundRef.current) beep(alert.level);
      }
    };
    const onNew = (alert: AlertView) => onLive(alert, true);
    const onUpdated = (alert: AlertView) => onLive(alert, false);
    const onConnect = () => void replay();
    const onResync = ({ alertsAfter }: { alertsAfter: number }) => void settle(feed.resync(alertsAfter));

    socket.on('alert:new', onNew);
    socket.on('alert:updated', onUpdated);
    socket.on('connect', onConnect);
    socket.on('realtime:resync', onResync);
    if (socket.connected) void replay();
    return () => {
      feed.abort();
      socket.off('realtime:resync', onResync);
      socket.off('alert:new', onNew);
      socket.off('alert:updated', onUpdated);
      socket.off('connect', onConnect);
    };
  }, [enabled, socket, merge]);

  const act = useCallback(
    async (id: number, action: AlertAction, note: string) => {
      const updated = await api.alertAction(id, action, note);
      merge([updated]);
      return updated;
    },
    [merge],
  );

  const dismissPopup = useCallback((id: number) => setPopupQueue((q) => q.filter((x) => x !== id)), []);

  const setSound = useCallback((on: boolean) => {
    setSoundState(on);
    if (on) beep('orange'); // the click is the user gesture that unlocks audio
    try {
      window.localStorage.setItem(SOUND_KEY, on ? '1' : '0');
    } catch {
      // Not persisted.
    }
  }, []);

  const value = useMemo<AlertsValue>(() => {
    const alerts = [...byId.values()].sort((a, b) => b.lastAt.localeCompare(a.lastAt) || b.id - a.id);
    return { enabled, alerts, loading, error, popupQueue, arrivals, dismissPopup, act, sound, setSound };
  }, [enabled, byId, loading, error, popupQueue, arrivals, dismissPopup, act, sound, setSound]);

  return <AlertsContext value={value}>{children}</AlertsContext>;
}

export function useAlerts(): AlertsValue {
  const value = useContext(AlertsContext);
  if (!value) throw new Error('useAlerts must be used inside <AlertsProvider>');
  return value;
}
