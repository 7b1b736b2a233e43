/**
 * The in-process recorder's RTSP client (issue 14): DESCRIBE, SETUP of the video track (TCP interleaved),
 * PLAY and keep-alives, spoken to the source proxy over an in-process link (`SourceProxy.connectLocal`), so
 * the camera's picture reaches the recorder without a loopback socket and without a second process. The
 * proxy still does everything towards the camera (credentials, UDP or TCP, address rewriting).
 *
 * The SDP and every reply are treated as hostile: a missing or unknown video track, an unparsable reply or a
 * non-2xx status ends the session with a reason an operator can read.
 */
import type { LocalRtspLink } from '../../source-proxy.ts';
import { WireReader, framesIn, header, serialize, statusOf, type RtspMessage } from '../../rtsp-wire.ts';
import type { TsCodec } from './ts-mux.ts';

export interface SdpVideo {
  codec: TsCodec;
  payloadType: number;
  /** Absolute URL of the track (SETUP). */
  trackUrl: string;
  /** Absolute URL of the session (PLAY). */
  sessionUrl: string;
  /** Parameter sets the SDP carries (sprop-*), as NAL units: VPS, SPS, PPS order. */
  params: Buffer[];
}

function resolveControl(base: string, control: string | undefined): string {
  if (!control || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}

function b64list(v: string | undefined): Buffer[] {
  if (!v) return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z0-9+/=_-]+$/.test(s))
    .map((s) => Buffer.from(s, 'base64'))
    .filter((b) => b.length >= 2 && b.length <= 4096);
}

/** The first H.264/H.265 video track of an SDP, or null when it has none (base: Content-Base or the URL). */
export function parseSdpVideo(sdp: string, base: string): SdpVideo | null {
  let sessionControl: string | undefined;
  let inVideo = false;
  let seenMedia = false;
  let fmts: number[] = [];
  let control: string | undefined;
  const rtpmap = new Map<number, string>();
  const fmtp = new Map<number, string>();
  let found: {
    fmts: number[];
    control: string | undefined;
    rtpmap: Map<number, string>;
    fmtp: Map<number, string>;
  } | null = null;
  const close = () => {
    if (inVideo && !found) {
      const codecOf = (pt: number) => /^(H264|H265|HEVC)\//i.test(rtpmap.get(pt) ?? '');
      if (fmts.some(codecOf))
        found = { fmts: fmts.filter(codecOf), control, rtpmap: new Map(rtpmap), fmtp: new Map(fmtp) };
    }
  };
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      close();
      seenMedia = true;
      const m = /^m=(\w+)\s+\d+(?:\/\d+)?\s+\S+\s+(.*)$/.exec(line);
      inVideo = m?.[1] === 'video';
      fmts = (m?.[2] ?? '')
        .split(/\s+/)
        .map(Number)
        .filter((n) => Number.isInteger(n) && n >= 0 && n < 128);
      control = undefined;
      rtpmap.clear();
      fmtp.clear();
      continue;
    }
    const ctl = /^a=control:(.+)$/.exec(line);
    if (ctl) {
      if (seenMedia) control = ctl[1]!.trim();
      else sessionControl = ctl[1]!.trim();
      continue;
    }
    const map = /^a=rtpmap:(\d+)\s+(.+)$/.exec(line);
    if (map) rtpmap.set(Number(map[1]), map[2]!.trim());
    const fm = /^a=fmtp:(\d+)\s+(.+)$/.exec(line);
    if (fm) fmtp.set(Number(fm[1]), fm[2]!.trim());
  }
  close();
  if (!found) return null;
  const f = found as {
    fmts: number[];
    control: string | undefined;
    rtpmap: Map<number, string>;
    fmtp: Map<number, string>;
  };
  const pt = f.fmts[0]!;
  const codec: TsCodec = /^H264\//i.test(f.rtpmap.get(pt)!) ? 'h264' : 'h265';
  const attrs = new Map<string, string>();
  for (const kv of (f.fmtp.get(pt) ?? '').split(';')) {
    const at = kv.indexOf('=');
    if (at > 0) attrs.set(kv.slice(0, at).trim().toLowerCase(), kv.slice(at + 1).trim());
  }
  const params =
    codec === 'h264'
      ? b64list(attrs.get('sprop-parameter-sets'))
      : [...b64list(attrs.get('sprop-vps')), ...b64list(attrs.get('sprop-sps')), ...b64list(attrs.get('sprop-pps'))];
  const sessionUrl = resolveControl(base, sessionControl);
  return { codec, payloadType: pt, trackUrl: resolveControl(sessionUrl, f.control), sessionUrl, params };
}

export interface PullOptions {
  link: LocalRtspLink;
  /** The source proxy's URL of the camera (loopback, token, no credentials). */
  url: string;
  replyTimeoutMs?: number;
  /** Video RTP packets of the track set up (interleaved channel 0). */
  onRtp(packet: Buffer): void;
  /** The link ended (the camera or the proxy closed it). */
  onClose(): void;
}

/** An RTSP session over the local link. */
export class RtspPull {
  readonly #o: PullOptions;
  readonly #reader = new WireReader();
  #cseq = 0;
  #pending: { cseq: string; resolve: (m: RtspMessage | null) => void } | undefined;
  #session: string | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  video: SdpVideo | undefined;

  constructor(o: PullOptions) {
    this.#o = o;
    o.link.onData((d) => this.#onData(d));
    o.link.onClose(() => {
      if (this.#closed) return;
      this.close();
      o.onClose();
    });
  }

  #onData(d: Buffer): void {
    let items;
    try {
      items = this.#reader.push(d);
    } catch {
      this.close();
      this.#o.onClose();
      return;
    }
    for (const item of items) {
      if (item.kind === 'frames') {
        for (const f of framesIn(item.data)) if (f.channel === 0) this.#o.onRtp(f.payload);
      } else if (statusOf(item.message) !== null) {
        const p = this.#pending;
        if (p && header(item.message, 'CSeq') === p.cseq) {
          this.#pending = undefined;
          p.resolve(item.message);
        }
      }
    }
  }

  /** One request; null when no reply came in time or the link closed. */
  request(method: string, url: string, headers: Array<[string, string]> = []): Promise<RtspMessage | null> {
    if (this.#closed) return Promise.resolve(null);
    const cseq = String(++this.#cseq);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending?.cseq === cseq) this.#pending = undefined;
        resolve(null);
      }, this.#o.replyTimeoutMs ?? 10_000);
      this.#pending = {
        cseq,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const all: Array<[string, string]> = [['CSeq', cseq], ['User-Agent', 'ccc-recorder'], ...headers];
      if (this.#session) all.push(['Session', this.#session]);
      this.#o.link.send(serialize({ startLine: `${method} ${url} RTSP/1.0`, headers: all, body: Buffer.alloc(0) }));
    });
  }

  async #ok(method: string, url: string, headers: Array<[string, string]> = []): Promise<RtspMessage> {
    const r = await this.request(method, url, headers);
    if (!r) throw new Error(this.#closed ? `the stream closed during ${method}` : `no answer to ${method}`);
    const status = statusOf(r)!;
    if (status < 200 || status > 299)
      throw new Error(`${method} answered ${r.startLine.replace(/^RTSP\/1\.0\s*/, '')}`);
    return r;
  }

  /** DESCRIBE, SETUP and PLAY; resolves with the video track once the camera plays. */
  async start(): Promise<SdpVideo> {
    const url = this.#o.url;
    const d = await this.#ok('DESCRIBE', url, [['Accept', 'application/sdp']]);
    const base = header(d, 'Content-Base') ?? header(d, 'Content-Location') ?? url;
    const video = parseSdpVideo(d.body.toString('utf8'), base);
    if (!video) throw new Error('the camera offers no H.264 or H.265 video track');
    this.video = video;
    const s = await this.#ok('SETUP', video.trackUrl, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
    const session = header(s, 'Session');
    if (!session) throw new Error('SETUP answered without a session');
    const [id, ...opts] = session.split(';');
    this.#session = id!.trim();
    const timeout = Number(/timeout=(\d+)/i.exec(opts.join(';'))?.[1] ?? 60);
    await this.#ok('PLAY', video.sessionUrl, [['Range', 'npt=0.000-']]);
    // Keep-alive at a third of the session timeout (at least every 5 s, at most every 30 s).
    const every = Math.min(30, Math.max(5, Math.floor((timeout > 0 ? timeout : 60) / 3))) * 1000;
    this.#keepAlive = setInterval(() => void this.request('OPTIONS', video.sessionUrl), every);
    this.#keepAlive.unref();
    return video;
  }

  /** TEARDOWN (not waited for beyond a moment) and the link closed. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    if (this.#session && this.video) {
      await Promise.race([this.request('TEARDOWN', this.video.sessionUrl), new Promise((r) => setTimeout(r, 500))]);
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#pending?.resolve(null);
    this.#pending = undefined;
    this.#o.link.close();
  }
}
