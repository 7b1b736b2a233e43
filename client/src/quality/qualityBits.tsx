/** Small pieces shared by the quality page and the dashboard: a quality badge and the translated fault kinds. */
import type { QualityKind, QualityReason, QualityStatus } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';

export function QualityBadge({ status }: { status: QualityStatus }) {
  const { t } = useI18n();
  return (
    <span className={`quality-badge quality-badge--${status}`} data-quality={status}>
      {t(`quality.status.${status}`)}
    </span>
  );
}

export function QualityKinds({ kinds, reason }: { kinds: readonly QualityKind[]; reason: QualityReason | null }) {
  const { t } = useI18n();
  if (!kinds.length && !reason) return null;
  return (
    <span className="quality-kinds" data-kinds={kinds.join(',')}>
      {kinds.map((k) => t(`quality.kind.${k}`)).join('、')}
      {reason ? ` (${t(`quality.reason.${reason}`)})` : ''}
    </span>
  );
}
