/**
 * 系统管理 — what the API lets an admin do, in the console (issue 17): users,
 * alert sources and their keys, wall screens and kiosk tokens, networks, and
 * who watched what. Each section shows only with its permission; the server
 * checks every permission and jurisdiction again (a township admin's lists
 * hold only its own units).
 */
import { useI18n } from '../i18n.tsx';
import { navigate, pathOf, type AdminSection } from '../router.ts';
import { useSession } from '../session.tsx';
import { adminSections } from './adminSections.ts';
import { NetworksSection } from './NetworksSection.tsx';
import { ScreensSection } from './ScreensSection.tsx';
import { SourcesSection } from './SourcesSection.tsx';
import { UsersSection } from './UsersSection.tsx';
import { ViewsSection } from './ViewsSection.tsx';
import './admin.css';

export function AdminPage({ section }: { section: AdminSection | null }) {
  const { t } = useI18n();
  const { can } = useSession();
  const sections = adminSections(can);
  const current = section && sections.includes(section) ? section : (sections[0] ?? null);
  if (!current) return null;
  return (
    <div className="admin" data-section={current}>
      <nav className="admin__tabs tabs" aria-label={t('admin.title')}>
        {sections.map((s) => (
          <a
            key={s}
            href={pathOf('admin', { adminSection: s })}
            className={`tab ${s === current ? 'tab--active' : ''}`}
            aria-current={s === current ? 'page' : undefined}
            data-admin-tab={s}
            onClick={(e) => {
              e.preventDefault();
              navigate('admin', { adminSection: s });
            }}
          >
            {t(`admin.tab.${s}`)}
          </a>
        ))}
      </nav>
      <div className="admin__body">
        {current === 'users' && <UsersSection />}
        {current === 'sources' && <SourcesSection />}
        {current === 'screens' && <ScreensSection />}
        {current === 'networks' && <NetworksSection />}
        {current === 'views' && <ViewsSection />}
      </div>
    </div>
  );
}
