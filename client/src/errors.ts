import type { FieldError } from '@api/contract.ts';
import { ApiError, NETWORK_ERROR_STATUS } from './api.ts';
import { currentLang, type MessageKey, type Translate } from './i18n.tsx';
import { fieldName, serverText } from './serverMessages.ts';

/** Error codes (`error.code`) with a sentence of their own when the message is not one the console knows. */
const BY_CODE: Record<string, MessageKey> = {
  not_found: 'err.not_found',
  conflict: 'err.conflict',
  rate_limited: 'err.rate_limited',
  device_error: 'err.device_error',
  relay_unavailable: 'err.relay_unavailable',
  bad_credentials: 'err.bad_credentials',
  wrong_level: 'order.err.wrongLevel',
  validation_failed: 'err.validation_failed',
  too_large: 'err.too_large',
  unsupported_media_type: 'err.unsupported_media_type',
  bad_encoding: 'err.bad_encoding',
  malformed_json: 'err.validation_failed',
  network_fixed: 'err.network_fixed',
  network_in_use: 'err.network_in_use',
  internal: 'err.internal',
  storage_unavailable: 'err.storage_unavailable',
};

/** A field error in the console's language, without the field's name (shown next to the field). */
export function fieldMessage(f: FieldError, t: Translate): string {
  return serverText(currentLang(), f) ?? t('err.field');
}

/** The same for a field error that may be absent (a field without an error). */
export function fieldMessageOf(f: FieldError | undefined, t: Translate): string | undefined {
  return f ? fieldMessage(f, t) : undefined;
}

/** A field error with its field's name, for a list or a notice (`经度：应在 -180 到 180 之间`). */
export function fieldLine(f: FieldError, t: Translate): string {
  return t('err.fieldLine', { field: fieldName(currentLang(), f.path), message: fieldMessage(f, t) });
}

/**
 * One line a user can read for any failure, in the console's language: the
 * server's message by its code (issue 17), else its field errors, else a
 * sentence for its error code. The server's English text is never shown as
 * such; callers may put it in a tooltip (`serverDetail`).
 */
export function describeError(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    if (err.status === NETWORK_ERROR_STATUS) return t('common.networkError');
    if (err.status === 401 && err.code !== 'bad_credentials') return t('common.sessionExpired');
    const said = serverText(currentLang(), {
      message: err.message,
      ...(err.messageCode ? { code: err.messageCode } : {}),
      ...(err.params ? { params: err.params } : {}),
    });
    if (said) return t('common.error', { message: said });
    if (err.fields.length > 0)
      return t('common.error', { message: err.fields.map((f) => fieldLine(f, t)).join(t('err.separator')) });
    if (err.status === 403) return t('common.forbidden');
    const key = BY_CODE[err.code];
    if (key) return t('common.error', { message: t(key) });
    return t('err.status', { status: err.status });
  }
  return t('err.unexpected');
}

/** The server's own words about a failure (English), for a tooltip next to describeError's line. */
export function serverDetail(err: unknown): string | undefined {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : undefined;
}
