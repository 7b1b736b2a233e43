/**
 * How a wall screen reacts to alerts (issue 17), by the rule saved with the
 * screen (`WallScreenSettings`): an alert from `alertMinLevel` up that arrives
 * while the screen runs pops up, sounds, stays in a banner while it is new,
 * highlights every tile showing one of its cameras, and its cameras that are
 * not on screen take the tiles the operator allowed (`alertTiles`) for
 * `alertHoldSec`. The same on a kiosk as on an operator's wall; a kiosk has
 * nobody to dismiss the pop-up, so there it folds into the banner after the
 * hold time.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AlertLevel, AlertView, WallScreenSettings } from '@api/contract.ts';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { isOpen, levelRank } from '../alerts/alertColors.ts';
import { beep } from '../alerts/beep.ts';

/** Cameras of an alert shown on the wall: its own first, then the linked ones, best first. */
export function camerasOf(a: AlertView): number[] {
  return [...new Set([...(a.cameraId !== null ? [a.cameraId] : []), ...a.linkedCameraIds])];
}

/**
 * Tiles the alert's cameras take: those not on screen yet, into the allowed
 * tiles in the operator's order (tiles beyond the grid are skipped).
 */
export function takeTiles(
  cameras: readonly number[],
  shown: readonly (number | null)[],
  allowed: readonly number[],
): Map<number, number> {
  const out = new Map<number, number>();
  const missing = cameras.filter((id) => !shown.includes(id));
  const tiles = allowed.filter((i) => i < shown.length);
  for (const [k, tile] of tiles.entries()) {
    const id = missing[k];
    if (id === undefined) break;
    out.set(tile, id);
  }
  return out;
}

interface Takeover {
  alertId: number;
  level: AlertLevel;
  tiles: Map<number, number>;
  until: number;
}

export interface AlertReaction {
  /** The alert popped up now, if any. */
  popup: AlertView | null;
  dismissPopup: () => void;
  /** New alerts of the rule's levels that arrived while the screen ran, newest first. */
  banner: AlertView[];
  /** Camera id → the highest level of an open alert (of the rule's levels) it belongs to. */
  highlight: ReadonlyMap<number, AlertLevel>;
  /** Tile index → the camera an alert put there for now, and that alert. */
  taken: ReadonlyMap<number, { cameraId: number; alertId: number }>;
  /** The operator changed the tiles: the alert gives them back. */
  release: () => void;
}

export function useAlertReaction(
  settings: WallScreenSettings,
  shown: readonly (number | null)[],
  kiosk: boolean,
): AlertReaction {
  const { alerts, arrivals } = useAlerts();
  const byId = useMemo(() => new Map(alerts.map((a) => [a.id, a])), [alerts]);
  const [seen, setSeen] = useState<readonly number[]>([]);
  const [popupId, setPopupId] = useState<number | null>(null);
  const [popupUntil, setPopupUntil] = useState(0);
  const [takeover, setTakeover] = useState<Takeover | null>(null);
  const processed = useRef(new Set<number>());
  const latest = useRef({ settings, shown, takeover });
  useEffect(() => {
    latest.current = { settings, shown, takeover };
  });

  const qualifies = useCallback(
    (a: AlertView) => levelRank(a.level) >= levelRank(settings.alertMinLevel),
    [settings.alertMinLevel],
  );

  // Each arrival is looked at once, when it comes (the store keeps the last 50).
  useEffect(() => {
    const fresh = arrivals.filter((id) => !processed.current.has(id));
    if (!fresh.length) return;
    for (const id of fresh) processed.current.add(id);
    const { settings: rule, shown: onScreen, takeover: current } = latest.current;
    const news = fresh
      .map((id) => byId.get(id))
      .filter((a): a is AlertView => !!a && a.status === 'new' && levelRank(a.level) >= levelRank(rule.alertMinLevel));
    if (!news.length) return;
    // The most urgent of what came together, newest among equals.
    const top = [...news].sort((a, b) => levelRank(b.level) - levelRank(a.level) || b.id - a.id)[0]!;
    const now = Date.now();
    const holdMs = rule.alertHoldSec * 1000;
    setSeen((prev) => [...prev, ...news.map((a) => a.id)]);
    setPopupId(top.id);
    setPopupUntil(now + holdMs);
    if (rule.alertSound) beep(top.level);
    // A more urgent alert keeps the tiles it took until its time is up.
    if (current && current.until > now && levelRank(current.level) > levelRank(top.level)) return;
    const base = onScreen.map((id, i) => (current?.tiles.has(i) ? null : id));
    const tiles = takeTiles(camerasOf(top), base, rule.alertTiles);
    setTakeover(tiles.size ? { alertId: top.id, level: top.level, tiles, until: now + holdMs } : null);
  }, [arrivals, byId]);

  useEffect(() => {
    if (!takeover) return;
    const timer = window.setTimeout(() => setTakeover(null), Math.max(0, takeover.until - Date.now()));
    return () => window.clearTimeout(timer);
  }, [takeover]);

  // A kiosk has nobody to close the pop-up: after the hold time it folds into the banner.
  useEffect(() => {
    if (!kiosk || popupId === null) return;
    const timer = window.setTimeout(() => setPopupId(null), Math.max(0, popupUntil - Date.now()));
    return () => window.clearTimeout(timer);
  }, [kiosk, popupId, popupUntil]);

  const popupAlert = popupId === null ? undefined : byId.get(popupId);
  const popup = popupAlert && popupAlert.status === 'new' && qualifies(popupAlert) ? popupAlert : null;

  const banner = useMemo(
    () =>
      seen
        .map((id) => byId.get(id))
        .filter((a): a is AlertView => !!a && a.status === 'new' && qualifies(a))
        .sort((a, b) => levelRank(b.level) - levelRank(a.level) || b.lastAt.localeCompare(a.lastAt)),
    [seen, byId, qualifies],
  );

  const highlight = useMemo(() => {
    const out = new Map<number, AlertLevel>();
    for (const id of seen) {
      const a = byId.get(id);
      if (!a || !isOpen(a.status) || !qualifies(a)) continue;
      for (const cam of camerasOf(a)) {
        const had = out.get(cam);
        if (!had || levelRank(a.level) > levelRank(had)) out.set(cam, a.level);
      }
    }
    return out;
  }, [seen, byId, qualifies]);

  // Tiles go back as soon as the alert is no longer open (handled elsewhere).
  const takerOpen = takeover ? isOpen(byId.get(takeover.alertId)?.status ?? 'closed') : false;
  const taken = useMemo(() => {
    const out = new Map<number, { cameraId: number; alertId: number }>();
    if (takeover && takerOpen)
      for (const [tile, cameraId] of takeover.tiles) out.set(tile, { cameraId, alertId: takeover.alertId });
    return out;
  }, [takeover, takerOpen]);

  const dismissPopup = useCallback(() => setPopupId(null), []);
  const release = useCallback(() => setTakeover(null), []);
  return { popup, dismissPopup, banner, highlight, taken, release };
}
