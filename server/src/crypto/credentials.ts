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

/**
 * Whether sealed credentials open, remembered by the sealed text: for listings that show the condition on
 * every row (a registry page of 500 points opened 500 seals, ~15 ms of AES-GCM set-up per request, half of
 * registry.bbox.p95). A seal's verdict cannot change while the key is the process's own; only the verdict is
 * kept, never what it opened. At most `max` seals are remembered (then the memory starts again).
 */
export function sealReadability(secrets: Pick<SecretBox, 'open'>, max = 100_000): (sealed: string) => boolean {
  const known = new Map<string, boolean>();
  return (sealed) => {
    let ok = known.get(sealed);
    if (ok === undefined) {
      ok = openCredentials(secrets, sealed).ok;
      if (known.size >= max) known.clear();
      known.set(sealed, ok);
    }
    return ok;
  };
}

export const CREDENTIALS_UNREADABLE =
  'the stored camera password cannot be decrypted (the secret key has changed); enter it again';
