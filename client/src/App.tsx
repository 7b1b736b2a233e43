import { Suspense, useCallback, useEffect, useRef, useState } from 'react';
import type { SessionEndReason, SessionUser } from '@api/contract.ts';
import { adminAllowed } from './admin/adminSections.ts';
import { AlertPopup } from './alerts/AlertPopup.tsx';
import { AlertsProvider } from './alerts/AlertsProvider.tsx';
import { api, ApiError, bootAnswer, onUnauthorized } from './api.ts';
import { TopBar } from './components/TopBar.tsx';
import { describeError } from './errors.ts';
import { useI18n } from './i18n.tsx';
import { bootSession, kioskTokenOfWindow } from './kioskWindow.ts';
import {
  AdminPage,
  AlertDetailPage,
  AlertsPage,
  AuditPage,
  DashboardPage,
  DiscoveryPage,
  OrderDetailPage,
  OrdersPage,
  PageBoundary,
  PageLoading,
  PlaybackPage,
  QualityPage,
  RegistryPage,
} from './lazyPages.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { RealtimeProvider } from './realtime.tsx';
import { SuperviseBanner } from './orders/SuperviseBanner.tsx';
import { navigate, useLocation, type Route } from './router.ts';
import { SessionProvider, useSession } from './session.tsx';
// The wall is in the entry chunk (issue 15: its map starts without waiting for another chunk); every other
// page is loaded when it is first shown (lazyPages.tsx).
import { WallPage, isKiosk } from './wall/WallPage.tsx';

type AuthState =
  | { state: 'checking' }
  | { state: 'unreachable'; error: unknown }
  | { state: 'anonymous'; expired: boolean; reason?: SessionEndReason }
  | { state: 'signed-in'; user: SessionUser };

/** The session as the early answer gave it, when there is one (never for a kiosk window, which signs in). */
function bootAuth(): AuthState {
  const session = kioskTokenOfWindow() ? undefined : bootAnswer<SessionUser | null>('/auth/session');
  if (!session) return { state: 'checking' };
  return session.value ? { state: 'signed-in', user: session.value } : { state: 'anonymous', expired: false };
}

export function App() {
  const { t } = useI18n();
  // A wall page opened with its session already answered (/wall-boot.js) starts signed in: no splash, and its
  // first request is not sent again.
  const [auth, setAuth] = useState<AuthState>(bootAuth);
  const [attempt, setAttempt] = useState(0);
  const booted = useRef(auth.state !== 'checking');

  useEffect(() => {
    if (booted.current) {
      booted.current = false;
      return;
    }
    const controller = new AbortController();
    // No session is an answer, not an error: GET /auth/session says null (no 401 in the console).
    bootSession(controller.signal).then(
      (user) => setAuth(user ? { state: 'signed-in', user } : { state: 'anonymous', expired: false }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status === 401) setAuth({ state: 'anonymous', expired: false });
        else setAuth({ state: 'unreachable', error: err });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  useEffect(
    () =>
      onUnauthorized((reason) => {
        // A kiosk window signs in again with its token (its session expired); a revoked token then finds nobody.
        if (kioskTokenOfWindow() && reason !== 'revoked' && reason !== 'disabled') {
          setAuth({ state: 'checking' });
          setAttempt((n) => n + 1);
          return;
        }
        setAuth((prev) =>
          prev.state === 'signed-in' ? { state: 'anonymous', expired: true, ...(reason ? { reason } : {}) } : prev,
        );
      }),
    [],
  );

  // A wall screen that boots while the server is away must come up by itself: ask again every few seconds.
  useEffect(() => {
    if (auth.state !== 'unreachable') return;
    const timer = window.setTimeout(() => setAttempt((n) => n + 1), 5_000);
    return () => window.clearTimeout(timer);
  }, [auth]);

  const logout = useCallback(() => {
    api
      .logout()
      .catch((err: unknown) => console.warn('logout failed', err))
      .finally(() => setAuth({ state: 'anonymous', expired: false }));
  }, []);

  switch (auth.state) {
    case 'checking':
      return <div className="splash">{t('common.loading')}</div>;
    case 'unreachable':
      return (
        <div className="splash">
          <p>{describeError(auth.error, t)}</p>
          <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
            {t('common.retry')}
          </button>
        </div>
      );
    case 'anonymous':
      return (
        <LoginPage
          notice={auth.reason ? t(`session.ended.${auth.reason}`) : auth.expired ? t('common.sessionExpired') : null}
          onLogin={(user) => setAuth({ state: 'signed-in', user })}
        />
      );
    case 'signed-in':
      return (
        <SessionProvider user={auth.user} onLogout={logout}>
          <RealtimeProvider>
            <AlertsProvider>
              <Shell />
            </AlertsProvider>
          </RealtimeProvider>
        </SessionProvider>
      );
  }
}

function Shell() {
  const location = useLocation();
  const { can, user } = useSession();
  const allowed = (r: Route) =>
    r === 'registry' ||
    (r === 'alerts' && can('alert.read')) ||
    (r === 'audit' && can('audit.read')) ||
    (r === 'discovery' && can('discovery.scan')) ||
    (r === 'orders' && can('order.read')) ||
    (r === 'dashboard' && can('order.stats')) ||
    (r === 'quality' && can('quality.read')) ||
    (r === 'playback' && can('recording.read')) ||
    (r === 'wall' && can('wall.read')) ||
    (r === 'admin' && adminAllowed(can));
  // Where a user lands: leaders (viewers) on their dashboard, everyone else on the registry.
  const home: Route = user.role === 'viewer' && can('order.stats') ? 'dashboard' : 'registry';
  const atRoot = window.location.pathname === '/';
  const route: Route = atRoot ? home : allowed(location.route) ? location.route : home;

  useEffect(() => {
    if (route !== location.route || (atRoot && route !== 'registry')) navigate(route, { replace: true });
  }, [route, location.route, atRoot]);

  // An unattended screen: the wall alone, no pointer UI around it.
  if (route === 'wall' && isKiosk(user.username)) return <WallPage screenId={location.screenId ?? null} kiosk />;

  return (
    <div className="shell">
      <TopBar route={route} />
      <main className="shell__main">
        {route === 'wall' ? (
          <WallPage screenId={location.screenId ?? null} kiosk={false} />
        ) : (
          <PageBoundary key={route}>
            <Suspense fallback={<PageLoading />}>
              {route === 'alerts' &&
                (location.alertId != null ? <AlertDetailPage alertId={location.alertId} /> : <AlertsPage />)}
              {route === 'orders' &&
                (location.orderId != null ? <OrderDetailPage orderId={location.orderId} /> : <OrdersPage />)}
              {route === 'dashboard' && <DashboardPage />}
              {route === 'quality' && <QualityPage />}
              {route === 'playback' && location.cameraId !== null && (
                <PlaybackPage key={location.cameraId} cameraId={location.cameraId} />
              )}
              {route === 'audit' && <AuditPage />}
              {route === 'admin' && <AdminPage section={location.adminSection ?? null} />}
              {route === 'discovery' && <DiscoveryPage scanId={location.scanId} />}
              {route === 'registry' && <RegistryPage openCameraId={location.cameraId} />}
            </Suspense>
          </PageBoundary>
        )}
      </main>
      {/* The wall reacts to alerts by its own screen's rule (WallAlertLayer). */}
      {can('alert.read') && route !== 'wall' && <AlertPopup />}
      {can('order.read') && <SuperviseBanner />}
    </div>
  );
}
