import { useState } from 'react';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { openKioskWindow } from '../kioskWindow.ts';
import { useSession } from '../session.tsx';
// .wall-kiosk-error: this button is on the wall, whose chunk does not hold the admin page.
import './admin.css';

/**
 * 新窗口打开（无人值守）: the screen in a new window with a viewing-only kiosk
 * session of its own (kioskWindow.ts), never the operator's session. Issuing
 * the token needs `wall.write`; without it there is no button.
 */
export function OpenKioskButton({ screenId, className }: { screenId: number; className: string }) {
  const { t } = useI18n();
  const { can } = useSession();
  const [error, setError] = useState<string | null>(null);
  if (!can('wall.write')) return null;
  return (
    <>
      <button
        type="button"
        className={className}
        data-action="open-kiosk"
        title={t('wall.openKioskTitle')}
        onClick={() => {
          setError(null);
          openKioskWindow(screenId).catch((err: unknown) => setError(describeError(err, t)));
        }}
      >
        {t('wall.openKiosk')}
      </button>
      {error && (
        <span className="wall-kiosk-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
