/**
 * The console's pages other than the wall, each a chunk of its own that is loaded when it is first shown
 * (issue 15, map.first_render50k): a page opened on /wall/:id downloads, parses and runs the shell and the
 * wall only, not the registry, the dispatch pages or the admin pages. The wall itself stays in the entry
 * chunk, so it costs no extra round trip. The page a window opens on is asked for as the bundle starts
 * (preloadPage, main.tsx), beside the session's own request.
 */
import { Component, lazy, type ComponentType, type ReactNode } from 'react';
import { useI18n } from './i18n.tsx';
import type { Location } from './router.ts';

const loaders = {
  alerts: () => import('./alerts/AlertsPage.tsx').then((m) => m.AlertsPage),
  alertDetail: () => import('./alerts/AlertDetailPage.tsx').then((m) => m.AlertDetailPage),
  orders: () => import('./orders/OrdersPage.tsx').then((m) => m.OrdersPage),
  orderDetail: () => import('./orders/OrderDetailPage.tsx').then((m) => m.OrderDetailPage),
  dashboard: () => import('./orders/DashboardPage.tsx').then((m) => m.DashboardPage),
  quality: () => import('./quality/QualityPage.tsx').then((m) => m.QualityPage),
  playback: () => import('./playback/PlaybackPage.tsx').then((m) => m.PlaybackPage),
  audit: () => import('./pages/AuditPage.tsx').then((m) => m.AuditPage),
  admin: () => import('./admin/AdminPage.tsx').then((m) => m.AdminPage),
  discovery: () => import('./pages/DiscoveryPage.tsx').then((m) => m.DiscoveryPage),
  registry: () => import('./pages/RegistryPage.tsx').then((m) => m.RegistryPage),
};

/** A page's chunk that could not be loaded (as opposed to a page that failed as it rendered). */
class PageLoadError extends Error {
  constructor(cause: unknown) {
    super('the page could not be loaded', { cause });
    this.name = 'PageLoadError';
  }
}

function page<P extends object>(load: () => Promise<ComponentType<P>>) {
  return lazy(async () => {
    try {
      return { default: await load() };
    } catch (err) {
      throw new PageLoadError(err);
    }
  });
}

export const AlertsPage = page(loaders.alerts);
export const AlertDetailPage = page(loaders.alertDetail);
export const OrdersPage = page(loaders.orders);
export const OrderDetailPage = page(loaders.orderDetail);
export const DashboardPage = page(loaders.dashboard);
export const QualityPage = page(loaders.quality);
export const PlaybackPage = page(loaders.playback);
export const AuditPage = page(loaders.audit);
export const AdminPage = page(loaders.admin);
export const DiscoveryPage = page(loaders.discovery);
export const RegistryPage = page(loaders.registry);

/**
 * Starts loading the page a location shows (nothing for the wall, which is in the entry chunk). The page's
 * lazy component takes the same module when it renders; a failure is reported there, not here.
 */
export function preloadPage(location: Location): void {
  const load = loaderOf(location);
  load?.().catch(() => {});
}

function loaderOf(location: Location): (() => Promise<unknown>) | null {
  switch (location.route) {
    case 'alerts':
      return location.alertId != null ? loaders.alertDetail : loaders.alerts;
    case 'orders':
      return location.orderId != null ? loaders.orderDetail : loaders.orders;
    case 'wall':
      return null;
    default:
      return loaders[location.route];
  }
}

/** Shown while a page's chunk loads (a moment on the LAN): what the console shows while it starts. */
export function PageLoading() {
  const { t } = useI18n();
  return (
    <div className="splash" aria-busy="true">
      {t('common.loading')}
    </div>
  );
}

/**
 * A page whose chunk cannot be loaded (the server away, or upgraded while this window was open, so that the
 * chunk this window knows is gone) says so and offers to load the page again, which gets the current build: a
 * chunk that failed is not asked for again in the same page. Any other error goes on up, as it did before the
 * pages were split. Keyed by the route, so that going to another page clears it.
 */
export class PageBoundary extends Component<{ children: ReactNode }, { caught: { error: unknown } | null }> {
  override state: { caught: { error: unknown } | null } = { caught: null };

  static getDerivedStateFromError(error: unknown): { caught: { error: unknown } } {
    return { caught: { error } };
  }

  override render() {
    const { caught } = this.state;
    if (caught === null) return this.props.children;
    if (caught.error instanceof PageLoadError) return <PageFailed />;
    throw caught.error;
  }
}

function PageFailed() {
  const { t } = useI18n();
  return (
    <div className="splash" role="alert">
      <p>{t('common.pageLoadFailed')}</p>
      <button type="button" className="button" onClick={() => window.location.reload()}>
        {t('common.reload')}
      </button>
    </div>
  );
}
