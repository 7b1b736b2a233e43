import { useEffect, useState } from 'react';

/** The app has two pages; a history-API router is all it needs (the server falls back to index.html). */
export type Route = 'registry' | 'audit';

function routeOf(pathname: string): Route {
  return pathname.startsWith('/audit') ? 'audit' : 'registry';
}

const ROUTE_EVENT = 'ccc:navigate';

export function navigate(route: Route): void {
  const path = route === 'audit' ? '/audit' : '/registry';
  if (window.location.pathname !== path) {
    window.history.pushState(null, '', path);
    window.dispatchEvent(new Event(ROUTE_EVENT));
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeOf(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(window.location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener(ROUTE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(ROUTE_EVENT, update);
    };
  }, []);
  return route;
}
