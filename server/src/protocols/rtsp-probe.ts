/**
 * RTSP health probe: DESCRIBE (with Basic or Digest auth), and optionally
 * SETUP + PLAY until the first RTP packet of video arrives — proof of real
 * video rather than of an open port. SETUP goes the way the point says
 * (issue 12): TCP interleaved, UDP to ports of our own, or 'auto' (the
 * transport that worked last, then the other; a camera that answers 461 to
 * TCP is tried over UDP on the same connection). Every reply is capped in
 * size and time; garbage ends the probe with a reason.
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

export interface RtspProbeResult {
  ok: boolean;
  /** Stage reached: connect, describe, setup, play, frame. */
  stage: 'connect' | 'describe' | 'setup' | 'play' | 'frame';
  reason: string | null;
  codec: string | null;
  /** Milliseconds from connect to the first RTP packet, when asked for video. */
  firstPacketMs: number | null;
  status: number | null;
  /** The transport the first video packet came over. */
  transport?: 'tcp' | 'udp';
}

export interface RtspProbeOptions {
  username?: string;
  password?: string;
  timeoutMs: number;
  /** Also SETUP + PLAY and wait for the first video RTP packet. */
  wantVideo: boolean;
  /** How to SETUP; default 'tcp'. */
  transport?: 'auto' | 'tcp' | 'udp';
  /** For 'auto': tried first (what worked last time). */
  prefer?: 'tcp' | 'udp';
}

/** Two UDP sockets on consecutive ports, RTP on the even one. */
async function udpPair(): Promise<{ rtp: UdpSocket; rtcp: UdpSocket; port: number }> {
  const bind = (port: number) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind({ port, exclusive: true }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  for (let i = 0; i < 32; i++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 20_000);
    let rtp: UdpSocket | undefined;
    try {
      rtp = await bind(port);
      return { rtp, rtcp: await bind(port + 1), port };
    } catch {
      rtp?.close();
    }
  }
  throw new Error('no free UDP port pair');
}

interface RtspResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

const MAX_HEADER = 16 * 1024;
const MAX_BODY = 64 * 1024;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function parseAuthParams(header: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

/** Parses RTSP responses and interleaved `$` frames from one TCP stream. */
function createReader(
  onResponse: (r: RtspResponse) => void,
  onFrame: (channel: number, data: Buffer) => void,
  onError: (reason: string) => void,
) {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length === 0) return;
      if (buf[0] === 0x24) {
        if (buf.length < 4) return;
        const len = buf.readUInt16BE(2);
        if (buf.length < 4 + len) return;
        onFrame(buf[1]!, buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        continue;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEADER) onError('RTSP header larger than 16 KB');
        return;
      }
      const head = buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const status = /^RTSP\/1\.\d (\d{3})/.exec(lines[0] ?? '');
      if (!status) {
        onError(`not an RTSP reply: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
        return;
      }
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      const len = Number(headers.get('content-length') ?? 0);
      if (!Number.isInteger(len) || len < 0 || len > MAX_BODY) {
        onError('RTSP body missing a sane Content-Length');
        return;
      }
      if (buf.length < end + 4 + len) return;
      const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
      buf = buf.subarray(end + 4 + len);
      onResponse({ status: Number(status[1]), headers, body });
    }
  };
}

/** First video media in an SDP: codec and control URL. */
export function parseSdpVideo(
  sdp: string,
  base: string,
): { codec: string | null; control: string; payloadType: number | null } | null {
  let inVideo = false;
  let codec: string | null = null;
  let control: string | null = null;
  let pt: number | null = null;
  let sessionControl: string | null = null;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      if (inVideo) break;
      inVideo = line.startsWith('m=video');
      const p = /^m=video \d+ \S+ (\d+)/.exec(line);
      pt = p ? Number(p[1]) : null;
      continue;
    }
    if (!inVideo && line.startsWith('a=control:')) sessionControl = line.slice(10);
    if (!inVideo) continue;
    const rtpmap = /^a=rtpmap:(\d+) ([\w.-]+)\//.exec(line);
    if (rtpmap && (pt === null || Number(rtpmap[1]) === pt)) codec = rtpmap[2]!.toUpperCase();
    if (line.startsWith('a=control:')) control = line.slice(10);
  }
  if (!inVideo && codec === null) return null;
  const c = control ?? sessionControl ?? '*';
  let url: string;
  if (/^rtsps?:\/\//i.test(c)) url = c;
  else if (c === '*') url = base;
  else url = base.endsWith('/') ? base + c : `${base}/${c}`;
  return { codec, control: url, payloadType: pt };
}

export function rtspProbe(uri: string, opts: RtspProbeOptions): Promise<RtspProbeResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      resolve({
        ok: false,
        stage: 'connect',
        reason: 'invalid RTSP URI',
        codec: null,
        firstPacketMs: null,
        status: null,
      });
      return;
    }
    if (u.protocol !== 'rtsp:') {
      resolve({
        ok: false,
        stage: 'connect',
        reason: `unsupported scheme ${u.protocol}`,
        codec: null,
        firstPacketMs: null,
        status: null,
      });
      return;
    }
    const username = opts.username ?? decodeURIComponent(u.username);
    const password = opts.password ?? decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    const url = u.toString();
    const started = Date.now();
    let stage: RtspProbeResult['stage'] = 'connect';
    let codec: string | null = null;
    let lastStatus: number | null = null;
    let done = false;
    let cseq = 0;
    let authHeader: ((method: string, target: string) => string) | null = null;
    let session: string | null = null;
    let pending: ((r: RtspResponse) => void) | null = null;
    let videoPt: number | null = null;
    let mode: 'tcp' | 'udp' | null = null;
    let udp: { rtp: UdpSocket; rtcp: UdpSocket; port: number } | null = null;
    const closeUdp = () => {
      udp?.rtp.close();
      udp?.rtcp.close();
      udp = null;
    };

    const socket: Socket = connect({ host: u.hostname, port: Number(u.port || 554) });
    const finish = (ok: boolean, reason: string | null, firstPacketMs: number | null = null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (session && !socket.destroyed) {
        socket.write(`TEARDOWN ${url} RTSP/1.0\r\nCSeq: ${++cseq}\r\nSession: ${session}\r\n\r\n`);
      }
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
      closeUdp();
      resolve({
        ok,
        stage,
        reason,
        codec,
        firstPacketMs,
        status: lastStatus,
        ...(ok && mode && opts.wantVideo ? { transport: mode } : {}),
      });
    };
    const timer = setTimeout(
      () =>
        finish(
          false,
          stage === 'play'
            ? `no video within ${opts.timeoutMs} ms`
            : `no reply to ${stage.toUpperCase()} within ${opts.timeoutMs} ms`,
        ),
      opts.timeoutMs,
    );
    const send = (method: string, target: string, extra: string[] = []): Promise<RtspResponse> =>
      new Promise((res) => {
        pending = res;
        const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${++cseq}`, 'User-Agent: ccc-health/1', ...extra];
        if (authHeader) lines.push(`Authorization: ${authHeader(method, target)}`);
        if (session) lines.push(`Session: ${session}`);
        socket.write(lines.join('\r\n') + '\r\n\r\n');
      });
    const reader = createReader(
      (r) => {
        lastStatus = r.status;
        const p = pending;
        pending = null;
        p?.(r);
      },
      (channel, data) => {
        if (stage !== 'play' || channel !== 0 || data.length < 12) return;
        const version = data[0]! >> 6;
        const pt = data[1]! & 0x7f;
        if (version !== 2 || (videoPt !== null && pt !== videoPt)) return;
        stage = 'frame';
        finish(true, null, Date.now() - started);
      },
      (reason) => finish(false, reason),
    );
    socket.on('data', (c: Buffer) => {
      if (!done) reader(c);
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      finish(false, e.code === 'ECONNREFUSED' ? 'connection refused' : e.message),
    );
    socket.on('close', () => finish(false, `connection closed during ${stage}`));
    socket.setTimeout(opts.timeoutMs);

    const withAuth = async (method: string, target: string, extra: string[] = []): Promise<RtspResponse> => {
      let r = await send(method, target, extra);
      if (r.status === 401 && !authHeader && username) {
        const challenge = r.headers.get('www-authenticate') ?? '';
        if (/^digest/i.test(challenge)) {
          const p = parseAuthParams(challenge);
          const realm = p.get('realm') ?? '';
          const nonce = p.get('nonce') ?? '';
          authHeader = (m, t) => {
            const ha1 = md5(`${username}:${realm}:${password}`);
            const response = md5(`${ha1}:${nonce}:${md5(`${m}:${t}`)}`);
            return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${t}", response="${response}"`;
          };
        } else {
          const basic = Buffer.from(`${username}:${password}`).toString('base64');
          authHeader = () => `Basic ${basic}`;
        }
        r = await send(method, target, extra);
      }
      return r;
    };

    socket.on('connect', () => {
      stage = 'describe';
      void (async () => {
        const d = await withAuth('DESCRIBE', url, ['Accept: application/sdp']);
        if (d.status === 401) return finish(false, 'RTSP authentication failed');
        if (d.status !== 200) return finish(false, `DESCRIBE answered ${d.status}`);
        const video = parseSdpVideo(d.body, d.headers.get('content-base') ?? url);
        if (!video) return finish(false, 'SDP has no video');
        codec = video.codec;
        videoPt = video.payloadType;
        if (!opts.wantVideo) return finish(true, null);
        stage = 'setup';
        const want = opts.transport ?? 'tcp';
        const order: ('tcp' | 'udp')[] =
          want === 'auto' ? (opts.prefer === 'udp' ? ['udp', 'tcp'] : ['tcp', 'udp']) : [want];
        let s: RtspResponse | null = null;
        for (const t of order) {
          if (t === 'tcp') {
            s = await withAuth('SETUP', video.control, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']);
          } else {
            udp = await udpPair();
            // The first sender after PLAY: a camera with several addresses may send media from another one.
            udp.rtp.on('message', (msg) => {
              if (stage !== 'play' || msg.length < 12) return;
              if (msg[0]! >> 6 !== 2 || (videoPt !== null && (msg[1]! & 0x7f) !== videoPt)) return;
              stage = 'frame';
              finish(true, null, Date.now() - started);
            });
            s = await withAuth('SETUP', video.control, [
              `Transport: RTP/AVP;unicast;client_port=${udp.port}-${udp.port + 1}`,
            ]);
            if (s.status !== 200) closeUdp();
          }
          if (s.status === 200) {
            mode = t;
            break;
          }
          // Not a transport matter: the next transport would be refused the same way.
          if ([401, 403, 404, 454].includes(s.status)) break;
        }
        if (!s || s.status !== 200) {
          const tried = order.map((t) => t.toUpperCase()).join(' and ');
          return finish(
            false,
            s?.status === 461
              ? `the camera refused RTSP over ${tried} (461 Unsupported Transport)`
              : `SETUP over ${tried} answered ${s?.status}`,
          );
        }
        session = (s.headers.get('session') ?? '').split(';')[0]!.trim() || null;
        if (!session) return finish(false, 'SETUP reply lacks a session');
        stage = 'play';
        const p = await withAuth('PLAY', url, ['Range: npt=0.000-']);
        if (p.status !== 200) return finish(false, `PLAY answered ${p.status}`);
      })().catch((e: unknown) => finish(false, String(e)));
    });
  });
}
