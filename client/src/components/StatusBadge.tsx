import type { CameraStatus } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';

export function StatusBadge({ status, reason }: { status: CameraStatus; reason?: string | null }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge--${status}`} title={reason ?? undefined}>
      {t(`status.${status}`)}
    </span>
  );
}
