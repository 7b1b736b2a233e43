import type { SecretBox } from './secret-box.ts';

export type Credentials = { username: string; password: string };

/**
 * A point's sealed credentials, opened. A seal that no longer opens (the secret key changed) is its own
 * condition, not "no credentials" (issue 12: the point showed an authentication failure instead of the cause).
 */
export function openCredentials(
  secrets: Pick<SecretBox, 'open'>,
  sealed: string | null,
): { ok: true; creds: Credentials | null } | { ok: false } {
  if (!sealed) return { ok: true, creds: null };
  try {
    const c = JSON.parse(secrets.open(sealed)) as Partial<Credentials>;
    return { ok: true, creds: { username: String(c.username ?? ''), password: String(c.password ?? '') } };
  } catch {
    return { ok: false };
  }
}

export const CREDENTIALS_UNREADABLE =
  'the stored camera password cannot be decrypted (the secret key has changed); enter it again';
