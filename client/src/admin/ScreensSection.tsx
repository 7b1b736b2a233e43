import { useCallback, useEffect, useState } from 'react';
import type { WallKioskTokenIssued, WallKioskTokenRecord, WallScreenView } from '@api/contract.ts';
import { isAbort } from '../api.ts';
import { Modal } from '../components/Modal.tsx';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { openKioskWindow } from '../kioskWindow.ts';
import { useOrgUnits } from '../orders/orderBits.tsx';
import { navigate } from '../router.ts';
import { adminApi, kioskSignInUrl } from './adminApi.ts';
import { useList } from './useList.ts';

/** The kiosk tokens of one screen: when issued, by whom, revoked when. */
function KioskTokens({ screen, gen }: { screen: WallScreenView; gen: number }) {
  const { t, formatTime } = useI18n();
  const [tokens, setTokens] = useState<WallKioskTokenRecord[] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    adminApi.kioskTokens(screen.id, controller.signal).then(setTokens, (err: unknown) => {
      if (!isAbort(err)) setTokens([]);
    });
    return () => controller.abort();
  }, [screen.id, gen]);
  if (!tokens) return <span className="muted">{t('common.loading')}</span>;
  const active = tokens.filter((k) => k.revokedAt === null);
  return (
    <span className="kiosk-tokens" data-active-tokens={active.length}>
      {active.length === 0
        ? t('admin.screen.noTokens')
        : t('admin.screen.tokens', {
            count: active.length,
            time: formatTime(active[0]!.createdAt),
            user: active[0]!.createdBy ?? t('common.none'),
          })}
    </span>
  );
}

function RenameDialog({
  screen,
  onClose,
  onSaved,
}: {
  screen: WallScreenView;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(screen.name);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal title={t('admin.screen.renameTitle', { name: screen.name })} onClose={onClose}>
      <form
        className="admin-form"
        data-form="rename-screen"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          adminApi.renameScreen(screen.id, name).then(onSaved, setError);
        }}
      >
        <label className="field">
          <span>{t('admin.screen.name')}</span>
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        {error !== null && (
          <div className="notice notice--error" role="alert">
            {describeError(error, t)}
          </div>
        )}
        <div className="modal__footer">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The sign-in URL for the screen's own PC, shown once. */
function KioskUrlOnce({ issued, onClose }: { issued: WallKioskTokenIssued; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal title={t('admin.screen.urlTitle')} onClose={onClose}>
      <div className="admin-form" data-form="kiosk-url">
        <p>{t('admin.screen.urlOnce')}</p>
        <code className="admin-secret" data-secret="kiosk-url">
          {kioskSignInUrl(issued)}
        </code>
        <div className="modal__footer">
          <button type="button" className="button button--primary" onClick={onClose}>
            {t('admin.source.keyStored')}
          </button>
        </div>
      </div>
    </Modal>
  );
}

/** 大屏 — rename, delete, kiosk tokens (issue, revoke, open a viewing-only window). */
export function ScreensSection() {
  const { t } = useI18n();
  const { items, error, reload } = useList(adminApi.screens);
  const { byId } = useOrgUnits();
  const [renaming, setRenaming] = useState<WallScreenView | null>(null);
  const [issued, setIssued] = useState<WallKioskTokenIssued | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  const changed = useCallback(() => {
    setGen((n) => n + 1);
    reload();
  }, [reload]);

  const act = (p: Promise<unknown>) => {
    setActionError(null);
    p.then(changed, (err: unknown) => setActionError(err));
  };

  return (
    <section className="admin-section" aria-label={t('admin.tab.screens')}>
      <div className="toolbar">
        <h1 className="page-title">{t('admin.tab.screens')}</h1>
        <span className="result-count">{t('admin.count', { count: items.length })}</span>
      </div>
      <p className="muted admin-intro">{t('admin.screen.intro')}</p>
      {actionError !== null && <div className="notice notice--error">{describeError(actionError, t)}</div>}
      <div className="table-wrap">
        <table className="data-table data-table--screens">
          <thead>
            <tr>
              <th>{t('admin.screen.name')}</th>
              <th>{t('admin.source.orgUnit')}</th>
              <th>{t('admin.screen.kiosk')}</th>
              <th>{t('col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-screen-id={s.id}>
                <td>
                  <a
                    href={`/wall/${s.id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate('wall', { screenId: s.id });
                    }}
                  >
                    {s.name}
                  </a>
                </td>
                <td>{byId.get(s.orgUnitId)?.name ?? t('common.none')}</td>
                <td>
                  <KioskTokens screen={s} gen={gen} />
                </td>
                <td className="cell-actions">
                  <button
                    type="button"
                    className="button button--small"
                    data-action="rename"
                    onClick={() => setRenaming(s)}
                  >
                    {t('admin.screen.rename')}
                  </button>
                  <button
                    type="button"
                    className="button button--small"
                    data-action="issue-kiosk"
                    onClick={() =>
                      adminApi.issueKiosk(s.id).then(
                        (k) => {
                          setIssued(k);
                          setGen((n) => n + 1);
                        },
                        (err: unknown) => setActionError(err),
                      )
                    }
                  >
                    {t('admin.screen.issue')}
                  </button>
                  <button
                    type="button"
                    className="button button--small"
                    data-action="open-kiosk"
                    onClick={() => {
                      setActionError(null);
                      openKioskWindow(s.id).then(() => setGen((n) => n + 1), setActionError);
                    }}
                  >
                    {t('wall.openKiosk')}
                  </button>
                  <button
                    type="button"
                    className="button button--small button--danger-ghost"
                    data-action="revoke-kiosk"
                    onClick={() => {
                      if (window.confirm(t('admin.screen.confirmRevoke', { name: s.name })))
                        act(adminApi.revokeKiosk(s.id));
                    }}
                  >
                    {t('admin.screen.revoke')}
                  </button>
                  <button
                    type="button"
                    className="button button--small button--danger-ghost"
                    data-action="delete"
                    onClick={() => {
                      if (window.confirm(t('admin.screen.confirmDelete', { name: s.name })))
                        act(adminApi.deleteScreen(s.id));
                    }}
                  >
                    {t('common.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {error !== null && <div className="notice notice--error">{describeError(error, t)}</div>}
      </div>
      {renaming && (
        <RenameDialog
          screen={renaming}
          onClose={() => setRenaming(null)}
          onSaved={() => {
            setRenaming(null);
            changed();
          }}
        />
      )}
      {issued && <KioskUrlOnce issued={issued} onClose={() => setIssued(null)} />}
    </section>
  );
}
