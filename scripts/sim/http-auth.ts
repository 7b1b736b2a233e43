/**
 * HTTP/RTSP Basic and Digest (RFC 2617, MD5) checks, shared by the RTSP server and the snapshot URL.
 * Cameras in the field accept both; the simulator accepts requests without credentials unless told not to.
 */
import { createHash, randomBytes } from 'node:crypto';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

export type CredentialCheck = 'absent' | 'ok' | 'bad';

/** Checks an Authorization header against the expected credentials; `method`/`uri` are for Digest. */
export function checkAuthorization(
  header: string | undefined,
  method: string,
  username: string,
  password: string,
): CredentialCheck {
  if (!header) return 'absent';
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const rest = sp < 0 ? '' : header.slice(sp + 1);
  if (scheme === 'basic') {
    const dec = Buffer.from(rest.trim(), 'base64').toString('utf8');
    return dec === `${username}:${password}` ? 'ok' : 'bad';
  }
  if (scheme === 'digest') {
    const p = parseAuthParams(rest);
    if (p.username !== username || !p.nonce || !p.response || p.uri === undefined) return 'bad';
    const ha1 = md5(`${username}:${p.realm ?? ''}:${password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected = p.qop
      ? md5(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`)
      : md5(`${ha1}:${p.nonce}:${ha2}`);
    return expected === p.response.toLowerCase() ? 'ok' : 'bad';
  }
  return 'bad';
}

export function digestChallenge(realm: string): string {
  return `Digest realm="${realm}", nonce="${randomBytes(16).toString('hex')}", stale="FALSE"`;
}
