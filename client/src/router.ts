import { useEffect, useState } from 'react';

/**
 * A history-API router is all the app needs (the server falls back to index.html).
 * `/registry/cameras/:id` is the registry with that point's form open, so other
 * pages (discovery) can link straight to a point; `/discovery/scans/:id` is one
 * scan, so the way back from a point lands on the same scan.
 */
export type Route =
  | 'registry'
  | 'audit'
  | 'discovery'
  | 'alerts'
  | 'orders'
  | 'dashboard'
  | 'wall'
  | 'admin'
  /** 视频质量诊断 (issue 16). */
  | 'quality'
  /** 录像回放 of one point (`/playback/:cameraId`, issue 14). */
  | 'playback';

/** The sections of the admin pages (`/admin/<section>`). */
export const ADMIN_SECTIONS = ['users', 'sources', 'screens', 'networks', 'views'] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

export interface Location {
  route: Route;
  /** The camera point whose form is open (registry only). */
  cameraId: number | null;
  /** The scan being shown (discovery only). */
  scanId: number | null;
  /** The work order being shown (orders only: `/orders/:id`). */
  orderId?: number | null;
  /** The alert being shown (`/alerts/:id`; alerts only). */
  alertId?: number | null;
  /** The wall screen being shown (`/wall/:screenId`; wall only). */
  screenId?: number | null;
  /** The admin section being shown (`/admin/:section`; admin only). */
  adminSection?: AdminSection | null;
}

const idIn = (pattern: RegExp, pathname: string): number | null => {
  const match = pattern.exec(pathname);
  return match ? Number(match[1]) : null;
};

export function locationOf(pathname: string): Location {
  if (pathname.startsWith('/orders')) {
    return { route: 'orders', cameraId: null, scanId: null, orderId: idIn(/^\/orders\/(\d+)\/?$/, pathname) };
  }
  if (pathname.startsWith('/dashboard')) return { route: 'dashboard', cameraId: null, scanId: null };
  if (pathname.startsWith('/quality')) return { route: 'quality', cameraId: null, scanId: null };
  if (pathname.startsWith('/playback')) {
    return { route: 'playback', cameraId: idIn(/^\/playback\/(\d+)\/?$/, pathname), scanId: null };
  }
  if (pathname.startsWith('/alerts')) {
    return { route: 'alerts', cameraId: null, scanId: null, alertId: idIn(/^\/alerts\/(\d+)\/?$/, pathname) };
  }
  if (pathname.startsWith('/wall')) {
    return { route: 'wall', cameraId: null, scanId: null, screenId: idIn(/^\/wall\/(\d+)\/?$/, pathname) };
  }
  if (pathname.startsWith('/audit')) return { route: 'audit', cameraId: null, scanId: null };
  if (pathname.startsWith('/admin')) {
    const section = /^\/admin\/([a-z]+)\/?$/.exec(pathname)?.[1];
    const known = ADMIN_SECTIONS.find((s) => s === section) ?? null;
    return { route: 'admin', cameraId: null, scanId: null, adminSection: known };
  }
  if (pathname.startsWith('/discovery')) {
    return { route: 'discovery', cameraId: null, scanId: idIn(/^\/discovery\/scans\/(\d+)\/?$/, pathname) };
  }
  return { route: 'registry', cameraId: idIn(/^\/registry\/cameras\/(\d+)\/?$/, pathname), scanId: null };
}

export function pathOf(
  route: Route,
  ids: {
    cameraId?: number | null;
    scanId?: number | null;
    orderId?: number | null;
    screenId?: number | null;
    adminSection?: AdminSection | null;
  } = {},
): string {
  if (route === 'admin' && ids.adminSection) return `/admin/${ids.adminSection}`;
  if (route === 'orders' && ids.orderId != null) return `/orders/${ids.orderId}`;
  if (route === 'wall' && ids.screenId != null) return `/wall/${ids.screenId}`;
  if (route === 'registry' && ids.cameraId != null) return `/registry/cameras/${ids.cameraId}`;
  if (route === 'playback' && ids.cameraId != null) return `/playback/${ids.cameraId}`;
  if (route === 'discovery' && ids.scanId != null) return `/discovery/scans/${ids.scanId}`;
  return `/${route}`;
}

const ROUTE_EVENT = 'ccc:navigate';

export function navigate(
  route: Route,
  opts: {
    cameraId?: number | null;
    scanId?: number | null;
    orderId?: number | null;
    screenId?: number | null;
    adminSection?: AdminSection | null;
    replace?: boolean;
  } = {},
): void {
  const path = pathOf(route, opts);
  if (window.location.pathname === path) return;
  if (opts.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

/** A point's recordings (`/playback/:id`), from a moment, with the other cameras to switch to (an alert's). */
export function navigateToPlayback(
  cameraId: number,
  opts: { at?: number; cameras?: number[]; alert?: number } = {},
): void {
  const q = new URLSearchParams();
  if (opts.at !== undefined) q.set('at', new Date(opts.at).toISOString());
  if (opts.cameras?.length) q.set('cameras', opts.cameras.join(','));
  if (opts.alert !== undefined) q.set('alert', String(opts.alert));
  const search = q.toString();
  window.history.pushState(null, '', `/playback/${cameraId}${search ? `?${search}` : ''}`);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

/** The alert list, or one alert's page (`/alerts/:id`), as a link from anywhere (list, wall, order). */
export function navigateToAlert(alertId: number | null, opts: { replace?: boolean } = {}): void {
  const path = alertId === null ? '/alerts' : `/alerts/${alertId}`;
  if (window.location.pathname === path) return;
  if (opts.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

function sameLocation(a: Location, b: Location): boolean {
  if ((a.alertId ?? null) !== (b.alertId ?? null)) return false;
  return (
    a.route === b.route &&
    a.cameraId === b.cameraId &&
    a.scanId === b.scanId &&
    (a.orderId ?? null) === (b.orderId ?? null) &&
    (a.screenId ?? null) === (b.screenId ?? null) &&
    (a.adminSection ?? null) === (b.adminSection ?? null)
  );
}

export function useLocation(): Location {
  const [location, setLocation] = useState<Location>(() => locationOf(window.location.pathname));
  useEffect(() => {
    const update = () => {
      const next = locationOf(window.location.pathname);
      setLocation((prev) => (sameLocation(prev, next) ? prev : next));
    };
    window.addEventListener('popstate', update);
    window.addEventListener(ROUTE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(ROUTE_EVENT, update);
    };
  }, []);
  return location;
}
