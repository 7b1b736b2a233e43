/**
 * Fetches a camera's JPEG snapshot over HTTP with Basic or Digest auth
 * (RFC 7616 with MD5, qop=auth — what ONVIF cameras use), bounded in size
 * and time, and checks that what came back is a JPEG.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { request as requestTls } from 'node:https';

export class SnapshotError extends Error {}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number, maxBytes: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? requestTls : request)(
      url,
      { method: 'GET', headers, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new SnapshotError(`snapshot larger than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (e) => reject(e instanceof SnapshotError ? e : new SnapshotError(e.message)));
      },
    );
    const timer = setTimeout(() => req.destroy(new SnapshotError(`no snapshot within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof SnapshotError ? e : new SnapshotError(e.message));
    });
    req.end();
  });
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export async function fetchSnapshot(
  uri: string,
  creds: { username: string; password: string } | null,
  opts: { timeoutMs: number; maxBytes: number },
): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new SnapshotError('invalid snapshot URI');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SnapshotError(`unsupported scheme ${url.protocol}`);
  let r = await get(url, {}, opts.timeoutMs, opts.maxBytes);
  if (r.status === 401 && creds) {
    const challenge = String(r.headers['www-authenticate'] ?? '');
    let authorization: string;
    if (/^digest/i.test(challenge)) {
      const p = new Map<string, string>();
      for (const m of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g))
        p.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
      const realm = p.get('realm') ?? '';
      const nonce = p.get('nonce') ?? '';
      const qop = (p.get('qop') ?? '')
        .split(',')
        .map((q) => q.trim())
        .includes('auth')
        ? 'auth'
        : null;
      const target = url.pathname + url.search;
      const ha1 = md5(`${creds.username}:${realm}:${creds.password}`);
      const ha2 = md5(`GET:${target}`);
      const cnonce = randomBytes(8).toString('hex');
      const response = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
      authorization =
        `Digest username="${creds.username}", realm="${realm}", nonce="${nonce}", uri="${target}", response="${response}"` +
        (qop ? `, qop=${qop}, nc=00000001, cnonce="${cnonce}"` : '') +
        (p.has('opaque') ? `, opaque="${p.get('opaque')}"` : '');
    } else {
      authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    r = await get(url, { authorization }, opts.timeoutMs, opts.maxBytes);
  }
  if (r.status === 401) throw new SnapshotError('snapshot authentication failed');
  if (r.status !== 200) throw new SnapshotError(`snapshot answered HTTP ${r.status}`);
  if (r.body.length < 4 || r.body[0] !== 0xff || r.body[1] !== 0xd8) throw new SnapshotError('snapshot is not a JPEG');
  return r.body;
}
