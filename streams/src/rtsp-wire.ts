/**
 * RTSP/1.0 on the wire (RFC 2326): messages and interleaved `$` frames read from one byte stream, and the
 * Basic/Digest answer to a camera's challenge. Pure helpers for the source proxy; every size is capped, so a
 * hostile peer can end a connection but not grow memory.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface RtspMessage {
  /** Request: method and URL; response: status and reason. */
  startLine: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 64 * 1024;

export const header = (m: Pick<RtspMessage, 'headers'>, name: string): string | undefined => {
  const n = name.toLowerCase();
  return m.headers.find(([k]) => k.toLowerCase() === n)?.[1];
};

export const headersOf = (m: Pick<RtspMessage, 'headers'>, name: string): string[] => {
  const n = name.toLowerCase();
  return m.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
};

/** Replaces (or adds, or with `undefined` removes) a header, keeping the others in order. */
export function setHeader(m: RtspMessage, name: string, value: string | undefined): void {
  const n = name.toLowerCase();
  const at = m.headers.findIndex(([k]) => k.toLowerCase() === n);
  const rest = m.headers.filter(([k]) => k.toLowerCase() !== n);
  // Everything before the first occurrence is unchanged, so `at` is still its place.
  if (value !== undefined) rest.splice(at < 0 ? rest.length : at, 0, [name, value]);
  m.headers = rest;
}

export function serialize(m: RtspMessage): Buffer {
  const headers = m.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
  if (m.body.length) headers.push(['Content-Length', String(m.body.length)]);
  const head = [m.startLine, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return m.body.length ? Buffer.concat([Buffer.from(head, 'latin1'), m.body]) : Buffer.from(head, 'latin1');
}

export type WireItem = { kind: 'message'; message: RtspMessage } | { kind: 'frames'; data: Buffer };

/**
 * Splits a byte stream into RTSP messages and runs of interleaved frames. Consecutive frames come out as one
 * buffer (one write downstream instead of one per RTP packet). Throws on garbage.
 */
export class WireReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): WireItem[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: WireItem[] = [];
    let buf = this.#buf;
    for (;;) {
      if (buf.length === 0) break;
      if (buf[0] === 0x24) {
        let end = 0;
        while (end + 4 <= buf.length && buf[end] === 0x24) {
          const len = buf.readUInt16BE(end + 2);
          if (end + 4 + len > buf.length) break;
          end += 4 + len;
        }
        if (end === 0) break;
        out.push({ kind: 'frames', data: buf.subarray(0, end) });
        buf = buf.subarray(end);
        continue;
      }
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (buf.length > MAX_HEADER_BYTES) throw new Error('RTSP header larger than 16 KB');
        break;
      }
      const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
      const startLine = lines[0] ?? '';
      if (!/^(RTSP\/1\.\d \d{3}\b|[A-Z_]+ \S+ RTSP\/1\.\d$)/.test(startLine)) {
        throw new Error(`not RTSP: ${JSON.stringify(startLine.slice(0, 60))}`);
      }
      const headers: Array<[string, string]> = [];
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
      }
      const len = Number(header({ headers }, 'content-length') ?? 0);
      if (!Number.isInteger(len) || len < 0 || len > MAX_BODY_BYTES) throw new Error('RTSP body without a sane length');
      if (buf.length < headEnd + 4 + len) break;
      out.push({
        kind: 'message',
        message: { startLine, headers, body: Buffer.from(buf.subarray(headEnd + 4, headEnd + 4 + len)) },
      });
      buf = buf.subarray(headEnd + 4 + len);
    }
    this.#buf = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    return out;
  }
}

export const statusOf = (m: RtspMessage): number | null => {
  const s = /^RTSP\/1\.\d (\d{3})/.exec(m.startLine);
  return s ? Number(s[1]) : null;
};

export function requestLine(m: RtspMessage): { method: string; url: string } | null {
  const r = /^([A-Z_]+) (\S+) RTSP\/1\.\d$/.exec(m.startLine);
  return r ? { method: r[1]!, url: r[2]! } : null;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function authParams(challenge: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(challenge))) out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

/**
 * What to send in `Authorization` for each later request after a 401 with these challenges: Digest preferred
 * (RFC 2617, with qop=auth when offered), else Basic. Null when there is no challenge we can answer.
 */
export function authorizer(
  challenges: string[],
  username: string,
  password: string,
): ((method: string, uri: string) => string) | null {
  const digest = challenges.find((c) => /^digest\b/i.test(c));
  if (digest) {
    const p = authParams(digest);
    const realm = p.get('realm') ?? '';
    const nonce = p.get('nonce') ?? '';
    const opaque = p.get('opaque');
    const qop = (p.get('qop') ?? '')
      .split(',')
      .map((s) => s.trim())
      .includes('auth');
    let nc = 0;
    const ha1 = md5(`${username}:${realm}:${password}`);
    return (method, uri) => {
      const ha2 = md5(`${method}:${uri}`);
      const parts = [`username="${username}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`];
      if (qop) {
        const count = (++nc).toString(16).padStart(8, '0');
        const cnonce = randomBytes(8).toString('hex');
        parts.push(`response="${md5(`${ha1}:${nonce}:${count}:${cnonce}:auth:${ha2}`)}"`);
        parts.push('qop=auth', `nc=${count}`, `cnonce="${cnonce}"`);
      } else parts.push(`response="${md5(`${ha1}:${nonce}:${ha2}`)}"`);
      if (opaque !== undefined) parts.push(`opaque="${opaque}"`);
      return `Digest ${parts.join(', ')}`;
    };
  }
  if (challenges.some((c) => /^basic\b/i.test(c))) {
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    return () => basic;
  }
  return null;
}

/** Parameters of a Transport header's first specification (`RTP/AVP/TCP;unicast;interleaved=0-1`). */
export function parseTransport(value: string): { profile: string; params: Map<string, string> } {
  const [first = ''] = value.split(',');
  const [profile = '', ...rest] = first.split(';').map((s) => s.trim());
  const params = new Map<string, string>();
  for (const p of rest) {
    const i = p.indexOf('=');
    params.set((i < 0 ? p : p.slice(0, i)).toLowerCase(), i < 0 ? '' : p.slice(i + 1));
  }
  return { profile, params };
}

/** `a-b` port or channel pairs. */
export function pair(value: string | undefined): [number, number] | null {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value ?? '');
  if (!m) return null;
  const a = Number(m[1]);
  return [a, m[2] === undefined ? a + 1 : Number(m[2])];
}

/** One interleaved frame: `$`, channel, length, payload. */
export function frame(channel: number, ...parts: Buffer[]): Buffer {
  const len = parts.reduce((a, b) => a + b.length, 0);
  const h = Buffer.alloc(4);
  h[0] = 0x24;
  h[1] = channel;
  h.writeUInt16BE(len, 2);
  return Buffer.concat([h, ...parts], len + 4);
}

/** Runs of `$` frames split back into (channel, payload). */
export function* framesIn(data: Buffer): Generator<{ channel: number; payload: Buffer }> {
  for (let off = 0; off + 4 <= data.length;) {
    const len = data.readUInt16BE(off + 2);
    yield { channel: data[off + 1]!, payload: data.subarray(off + 4, off + 4 + len) };
    off += 4 + len;
  }
}
