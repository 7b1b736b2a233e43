/** What a failed work-order step says to the user (its own file: the alert pages use it without the order page). */
import { ApiError } from '../api.ts';
import { describeError } from '../errors.ts';
import { currentLang, type Translate } from '../i18n.tsx';
import { serverText } from '../serverMessages.ts';

export function describeOrderError(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    if (err.code === 'wrong_level') return t('order.err.wrongLevel');
    if (err.status === 409) {
      const said = serverText(currentLang(), {
        message: err.message,
        ...(err.messageCode ? { code: err.messageCode } : {}),
        ...(err.params ? { params: err.params } : {}),
      });
      return t('order.err.conflict', { message: said ?? t('err.conflict') });
    }
  }
  return describeError(err, t);
}
