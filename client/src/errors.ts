import { ApiError, NETWORK_ERROR_STATUS } from './api.ts';
import type { Translate } from './i18n.tsx';

/** One line a user can read for any failure. */
export function describeError(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    if (err.status === NETWORK_ERROR_STATUS) return t('common.networkError');
    if (err.status === 401) return t('common.sessionExpired');
    if (err.status === 403) return t('common.forbidden');
    return t('common.error', { message: err.message });
  }
  return t('common.error', { message: err instanceof Error ? err.message : String(err) });
}
