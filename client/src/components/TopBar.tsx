import { useState, type ReactNode } from 'react';
import { adminAllowed } from '../admin/adminSections.ts';
import { PasswordDialog } from '../admin/PasswordDialog.tsx';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { isOpen } from '../alerts/alertColors.ts';
import { useI18n } from '../i18n.tsx';
import { useRealtime } from '../realtime.tsx';
import { navigate, pathOf, type Route } from '../router.ts';
import { useSession } from '../session.tsx';

export function TopBar({ route }: { route: Route }) {
  const { t, lang, setLang } = useI18n();
  const { user, can, logout } = useSession();
  const { connected } = useRealtime();
  const { alerts } = useAlerts();
  const openAlerts = alerts.filter((a) => isOpen(a.status)).length;
  const [changingPassword, setChangingPassword] = useState(false);

  const navItem = (target: Route, label: string, extra?: ReactNode) => (
    <a
      href={pathOf(target)}
      className={`topbar__nav-item ${route === target ? 'topbar__nav-item--active' : ''}`}
      aria-current={route === target ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(target);
      }}
    >
      {label}
      {extra}
    </a>
  );

  return (
    <header className="topbar">
      <div className="topbar__brand">
        <span className="brand-mark" aria-hidden="true" />
        <span>{t('app.title')}</span>
      </div>
      <nav className="topbar__nav">
        {navItem('registry', t('nav.registry'))}
        {can('alert.read') &&
          navItem(
            'alerts',
            t('nav.alerts'),
            openAlerts > 0 ? (
              <span className="nav-count" title={t('nav.alertsOpen', { count: openAlerts })}>
                {openAlerts}
              </span>
            ) : null,
          )}
        {can('order.read') && navItem('orders', t('nav.orders'))}
        {can('order.stats') && navItem('dashboard', t('nav.dashboard'))}
        {can('quality.read') && navItem('quality', t('nav.quality'))}
        {can('wall.read') && navItem('wall', t('nav.wall'))}
        {can('discovery.scan') && navItem('discovery', t('nav.discovery'))}
        {can('audit.read') && navItem('audit', t('nav.audit'))}
        {adminAllowed(can) && navItem('admin', t('nav.admin'))}
      </nav>
      <div className="topbar__right">
        <span
          className={`live-dot ${connected ? 'live-dot--on' : ''}`}
          title={connected ? t('top.live') : t('top.liveOff')}
        >
          {t('top.live')}
        </span>
        <div className="topbar__user">
          <span className="topbar__user-name">{user.displayName}</span>
          <span className="topbar__user-role">
            {t(`role.${user.role}`)} · {user.orgUnitName}
          </span>
        </div>
        <button
          type="button"
          className="button button--ghost"
          onClick={() => setLang(lang === 'en' ? 'zh-CN' : 'en')}
          title={t('top.switchLanguageTitle')}
        >
          {t('top.switchLanguage')}
        </button>
        <button
          type="button"
          className="button button--ghost"
          data-action="change-password"
          onClick={() => setChangingPassword(true)}
        >
          {t('top.password')}
        </button>
        <button type="button" className="button button--ghost" onClick={logout}>
          {t('top.logout')}
        </button>
      </div>
      {changingPassword && <PasswordDialog onClose={() => setChangingPassword(false)} />}
    </header>
  );
}
