import { useEffect, useState } from 'react';

/**
 * A history-API router is all the app needs (the server falls back to index.html).
 * `/registry/cameras/:id` is the registry with that point's form open, so other
 * pages (discovery) can link straight to a point.
 */
export type Route = 'registry' | 'audit' | 'discovery';

export interface Location {
  route: Route;
  /** The camera point whose form is open (registry only). */
  cameraId: number | null;
}

export function locationOf(pathname: string): Location {
  if (pathname.startsWith('/audit')) return { route: 'audit', cameraId: null };
  if (pathname.startsWith('/discovery')) return { route: 'discovery', cameraId: null };
  const match = /^\/registry\/cameras\/(\d+)\/?$/.exec(pathname);
  return { route: 'registry', cameraId: match ? Number(match[1]) : null };
}

export function pathOf(route: Route, cameraId: number | null = null): string {
  if (route === 'registry' && cameraId !== null) return `/registry/cameras/${cameraId}`;
  return `/${route}`;
}

const ROUTE_EVENT = 'ccc:navigate';

export function navigate(route: Route, opts: { cameraId?: number | null; replace?: boolean } = {}): void {
  const path = pathOf(route, opts.cameraId ?? null);
  if (window.location.pathname === path) return;
  if (opts.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

function sameLocation(a: Location, b: Location): boolean {
  return a.route === b.route && a.cameraId === b.cameraId;
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
