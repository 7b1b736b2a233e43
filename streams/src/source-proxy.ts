/**
 * The loopback source proxy: ffmpeg never sees a camera's credentials (issue 12, item 9).
 *
 * Why a proxy, not a pipe or a file: ffmpeg has no way to take an input URL (or its password) from anywhere
 * but its command line, which every local user can read in /proc/<pid>/cmdline; a pipe of raw media would
 * lose RTSP's timing and make the server a demuxer. So ffmpeg opens `rtsp://127.0.0.1:<port>/<token>/<path>`
 * and the proxy, inside the server, opens the camera with the sealed credentials: it answers the camera's
 * Basic/Digest challenge, rewrites addresses both ways and passes media through. It also owns the RTSP
 * transport towards the camera (item 1): TCP interleaved or UDP (received here and handed to ffmpeg
 * interleaved), `auto` trying TCP then UDP and remembering what delivered media. ffmpeg always speaks TCP to
 * the proxy. HTTP(S) sources get the same: `http://127.0.0.1:<port>/<token>/<path>`.
 *
 * A token alone does not open a stream: on Linux a connection is served only when /proc/net/tcp shows the
 * connecting socket owned by this process's user, so another local user who reads a token from ffmpeg's
 * command line gets nothing. Camera TLS certificates are not verified (cameras use self-signed ones; ffmpeg
 * did not verify them either).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import {
  WireReader,
  authorizer,
  frame,
  framesIn,
  header,
  headersOf,
  pair,
  parseTransport,
  requestLine,
  serialize,
  setHeader,
  statusOf,
  type RtspMessage,
} from './rtsp-wire.ts';
import type { RtspRequestHeaders } from './args.ts';
import { FragmentMerger, mergeablePayloadTypes } from './rtp-merge.ts';
import { silentLogger, type MediaLogger } from './supervisor.ts';

export type RtspTransport = 'tcp' | 'udp';
export type RtspTransportMode = 'auto' | RtspTransport;

export interface SourceCredentials {
  username: string;
  password: string;
}

/** A camera (or platform) source as the server registered it: URL without userinfo, credentials apart. */
export interface ProxiedSource {
  url: string;
  credentials?: SourceCredentials | null;
  /** RTSP towards the camera; default 'auto'. */
  transport?: RtspTransportMode;
  /** For 'auto': what worked last time (tried first). */
  preferTransport?: RtspTransport;
  /**
   * Headers sent to the camera beside ffmpeg's (ffmpeg has no option for them): `all` on every request, `play`
   * on PLAY, each replacing a header of the same name. ONVIF replay (issue 14) needs `Require: onvif-replay`
   * and `Range: clock=…` / `Scale` on PLAY, where ffmpeg only ever sends `Range: npt=`.
   */
  rtspHeaders?: RtspRequestHeaders;
}

export interface SourceEndpoint {
  /** What ffmpeg opens: loopback, no credentials. */
  readonly url: string;
  /** The last upstream failure on this endpoint, in words an operator can act on. */
  lastError(): string | undefined;
  clearError(): void;
  /** The RTSP transport that delivered media last. */
  transport(): RtspTransport | undefined;
  onTransport(fn: (t: RtspTransport) => void): () => void;
  /**
   * The camera answered PLAY with success (every time: a restarted ffmpeg plays again). A cold start asks
   * the camera for a keyframe at this moment (ONVIF SetSynchronizationPoint), not before: an IDR sent before
   * our session plays would reach only the others.
   */
  onPlaying(fn: () => void): () => void;
  /** Media bytes passed to ffmpeg so far. */
  mediaBytes(): number;
  close(): void;
}

export interface SourceProxyOptions {
  log?: MediaLogger;
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  /** Serve only connections whose socket belongs to this process's user (Linux /proc/net/tcp). Default true. */
  sameUserOnly?: boolean;
  /** Where UDP media from cameras is received; default all interfaces. */
  udpHost?: string;
  /**
   * Join H.264/H.265 fragments into one packet per NAL unit on the way to ffmpeg (rtp-merge.ts): about half
   * of a copying ffmpeg's CPU. Default true.
   */
  mergeFragments?: boolean;
}

/**
 * An in-process RTSP connection to the proxy (the native recorder's): bytes go both ways as they would on a
 * loopback socket, without the socket. Nothing outside this process can reach it, so it needs no owner check.
 */
export interface LocalRtspLink {
  /** Bytes to the proxy (RTSP requests). */
  send(b: Buffer): void;
  /** Bytes from the proxy (replies and interleaved media), delivered synchronously as the proxy writes them. */
  onData(fn: (b: Buffer) => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

export interface SourceProxy {
  open(source: ProxiedSource): Promise<SourceEndpoint>;
  /** A new in-process RTSP connection, spoken to with an endpoint's `url` as a socket would be. */
  connectLocal(): LocalRtspLink;
  stats(): { endpoints: number; connections: number };
  close(): Promise<void>;
}

/** Words for an upstream socket error. */
export function describeNetError(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ETIMEDOUT':
      return `no answer from ${where}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${where}`;
    default:
      return `${where}: ${err.message}`.slice(0, 200);
  }
}

/** uid owning the client end of a loopback connection (127.0.0.1:clientPort → 127.0.0.1:serverPort). */
export function loopbackPeerUid(procNetTcp: string, clientPort: number, serverPort: number): number | null {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const local = `0100007F:${hex(clientPort)}`;
  const remote = `0100007F:${hex(serverPort)}`;
  // Found by substring, then only that line split: the table lists every TCP socket of the host (ten thousand
  // with a large simulator or many cameras) and is read on every connection, a diagnosis sweep's included.
  for (
    let at = procNetTcp.indexOf(`${local} ${remote}`);
    at >= 0;
    at = procNetTcp.indexOf(`${local} ${remote}`, at + 1)
  ) {
    const start = procNetTcp.lastIndexOf('\n', at) + 1;
    const end = procNetTcp.indexOf('\n', at);
    const f = procNetTcp
      .slice(start, end < 0 ? undefined : end)
      .trim()
      .split(/\s+/);
    if (f[1] === local && f[2] === remote) {
      const uid = Number(f[7]);
      return Number.isInteger(uid) ? uid : null;
    }
  }
  return null;
}

interface Endpoint {
  token: string;
  kind: 'rtsp' | 'http';
  source: ProxiedSource;
  upstream: URL;
  /** `rtsp://127.0.0.1:port/token` */
  prefix: string;
  /** `rtsp://host:port` of the camera */
  upAuthority: string;
  url: string;
  error: string | undefined;
  transport: RtspTransport | undefined;
  /** For 'auto': tried first on the next connection. */
  prefer: RtspTransport;
  bytes: number;
  listeners: Set<(t: RtspTransport) => void>;
  playing: Set<() => void>;
  conns: Set<{ close(): void }>;
  closed: boolean;
}

const RTSP_DEFAULT_PORT: Record<string, number> = { 'rtsp:': 554, 'rtsps:': 322 };
/** Above this much media queued for a slow ffmpeg, new media is dropped rather than buffered. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export function createSourceProxy(opts: SourceProxyOptions = {}): SourceProxy {
  const log = opts.log ?? silentLogger;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const replyTimeoutMs = opts.replyTimeoutMs ?? 10_000;
  const sameUserOnly = opts.sameUserOnly ?? true;
  const myUid = typeof process.getuid === 'function' ? process.getuid() : null;
  const endpoints = new Map<string, Endpoint>();
  let rtspServer: net.Server | undefined;
  let httpServer: http.Server | undefined;
  let rtspPort: Promise<number> | undefined;
  let httpPort: Promise<number> | undefined;
  let closed = false;
  /** What every bridge (a loopback socket's or an in-process link's) is set up with. */
  const bridgeSettings: BridgeSettings = {
    udpHost: opts.udpHost,
    connectTimeoutMs,
    replyTimeoutMs,
    log,
    mergeFragments: opts.mergeFragments ?? true,
  };

  /** Whether the peer of a loopback connection runs as our user (true where /proc is not there to ask). */
  async function trusted(socket: net.Socket, serverPort: number): Promise<boolean> {
    if (!sameUserOnly || myUid === null) return true;
    if (socket.remoteAddress !== '127.0.0.1' && socket.remoteAddress !== '::ffff:127.0.0.1') return false;
    for (let i = 0; i < 3; i++) {
      let table: string;
      try {
        // Not readFileSync: this event loop carries live relays' media, and the table is every socket of the host.
        table = await readFile('/proc/net/tcp', 'latin1');
      } catch {
        return true;
      }
      const uid = loopbackPeerUid(table, socket.remotePort ?? -1, serverPort);
      if (uid !== null) return uid === myUid;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  function listen(server: net.Server): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  function startRtsp(): Promise<number> {
    rtspServer = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      const port = (rtspServer!.address() as net.AddressInfo).port;
      socket.pause();
      void trusted(socket, port).then((ok) => {
        if (!ok) {
          log.warn('source proxy: refused a connection from another user', { port: socket.remotePort });
          socket.destroy();
          return;
        }
        new RtspBridge(socket, (token) => endpoints.get(token), bridgeSettings);
        socket.resume();
      });
    });
    return listen(rtspServer);
  }

  function startHttp(): Promise<number> {
    httpServer = http.createServer((req, res) => {
      const port = (httpServer!.address() as net.AddressInfo).port;
      void trusted(req.socket, port).then((ok) => {
        if (!ok) {
          res.writeHead(403).end();
          return;
        }
        forwardHttp(req, res, (token) => endpoints.get(token), connectTimeoutMs, log);
      });
    });
    httpServer.keepAliveTimeout = 1_000;
    return listen(httpServer);
  }

  return {
    async open(source) {
      if (closed) throw new Error('source proxy is closed');
      const upstream = new URL(source.url);
      if (upstream.username || upstream.password) throw new Error('source URL must not carry credentials');
      const kind = upstream.protocol === 'rtsp:' || upstream.protocol === 'rtsps:' ? 'rtsp' : 'http';
      if (kind === 'http' && upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
        throw new Error(`the source proxy does not carry ${upstream.protocol} sources`);
      }
      const port = kind === 'rtsp' ? await (rtspPort ??= startRtsp()) : await (httpPort ??= startHttp());
      const token = randomBytes(16).toString('base64url');
      const defaultPort =
        kind === 'rtsp' ? RTSP_DEFAULT_PORT[upstream.protocol]! : upstream.protocol === 'https:' ? 443 : 80;
      const upAuthority = `${upstream.protocol}//${upstream.hostname.includes(':') ? `[${upstream.hostname}]` : upstream.hostname}:${upstream.port || defaultPort}`;
      const prefix = `${kind === 'rtsp' ? 'rtsp' : 'http'}://127.0.0.1:${port}/${token}`;
      const ep: Endpoint = {
        token,
        kind,
        source,
        upstream,
        prefix,
        upAuthority,
        url: prefix + (upstream.pathname || '/') + upstream.search,
        error: undefined,
        transport: undefined,
        prefer: source.preferTransport ?? 'tcp',
        bytes: 0,
        listeners: new Set(),
        playing: new Set(),
        conns: new Set(),
        closed: false,
      };
      endpoints.set(token, ep);
      return {
        url: ep.url,
        lastError: () => ep.error,
        clearError: () => void (ep.error = undefined),
        transport: () => ep.transport,
        onTransport(fn) {
          ep.listeners.add(fn);
          return () => ep.listeners.delete(fn);
        },
        onPlaying(fn) {
          ep.playing.add(fn);
          return () => ep.playing.delete(fn);
        },
        mediaBytes: () => ep.bytes,
        close() {
          ep.closed = true;
          endpoints.delete(token);
          for (const c of ep.conns) c.close();
        },
      };
    },
    connectLocal() {
      if (closed) throw new Error('source proxy is closed');
      const link = new LocalLink();
      new RtspBridge(link.proxySide, (token) => endpoints.get(token), bridgeSettings);
      return link;
    },
    stats: () => ({
      endpoints: endpoints.size,
      connections: [...endpoints.values()].reduce((n, e) => n + e.conns.size, 0),
    }),
    async close() {
      closed = true;
      for (const ep of endpoints.values()) {
        ep.closed = true;
        for (const c of ep.conns) c.close();
      }
      endpoints.clear();
      const done = (s: net.Server | undefined) =>
        s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
      httpServer?.closeAllConnections();
      await Promise.all([done(rtspServer), done(httpServer)]);
    },
  };
}

// ---------------------------------------------------------------------------------------------- RTSP

interface UdpTrack {
  rtpChannel: number;
  rtcpChannel: number;
  rtp: UdpSocket;
  rtcp: UdpSocket;
  serverRtcpPort: number | null;
}

function bindUdpPair(host: string | undefined): Promise<{ rtp: UdpSocket; rtcp: UdpSocket; port: number }> {
  const bindOne = (port: number) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind({ port, ...(host ? { address: host } : {}), exclusive: true }, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  return (async () => {
    // RTP on an even port, RTCP on the next (RFC 3550); some cameras insist.
    for (let i = 0; i < 32; i++) {
      const port = 20_000 + 2 * Math.floor(Math.random() * 20_000);
      let rtp: UdpSocket | undefined;
      try {
        rtp = await bindOne(port);
        const rtcp = await bindOne(port + 1);
        return { rtp, rtcp, port };
      } catch {
        rtp?.close();
      }
    }
    throw new Error('no free UDP port pair for RTP');
  })();
}

/** What a bridge needs of its client's connection: a loopback socket, or the proxy's side of a `LocalLink`. */
interface DownLink {
  on(event: 'data', fn: (d: Buffer) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  write(b: Buffer): unknown;
  destroy(): unknown;
  readonly writableLength: number;
  /** An in-process reader: it depacketizes itself, so it gets the camera's packets as they came (no merging). */
  readonly local?: boolean;
}

/** Both ends of an in-process connection; whichever side closes, both see it once. */
class LocalLink implements LocalRtspLink {
  #toProxy: ((d: Buffer) => void) | undefined;
  #toClient: ((d: Buffer) => void) | undefined;
  readonly #closers: Array<() => void> = [];
  #closed = false;

  readonly proxySide: DownLink = {
    on: (event: 'data' | 'close', fn: ((d: Buffer) => void) | (() => void)) => {
      if (event === 'data') this.#toProxy = fn as (d: Buffer) => void;
      else this.#closers.push(fn as () => void);
    },
    write: (b: Buffer) => {
      if (!this.#closed) this.#toClient?.(b);
    },
    destroy: () => this.close(),
    // Delivered at once: the recorder's own queue to disk is its back-pressure.
    writableLength: 0,
    local: true,
  };

  send(b: Buffer): void {
    if (!this.#closed) this.#toProxy?.(b);
  }
  onData(fn: (b: Buffer) => void): void {
    this.#toClient = fn;
  }
  onClose(fn: () => void): void {
    this.#closers.push(fn);
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fn of this.#closers.splice(0)) fn();
  }
}

interface BridgeSettings {
  udpHost: string | undefined;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  log: MediaLogger;
  mergeFragments: boolean;
}

/** One ffmpeg connection and its camera connection. */
class RtspBridge {
  readonly #down: DownLink;
  readonly #find: (token: string) => Endpoint | undefined;
  readonly #udpHost: string | undefined;
  readonly #connectTimeoutMs: number;
  readonly #replyTimeoutMs: number;
  readonly #log: MediaLogger;
  readonly #mergeFragments: boolean;
  /** Set once the camera's SDP names an H.264/H.265 payload type (DESCRIBE). */
  #merger: FragmentMerger | null = null;
  #ep: Endpoint | undefined;
  #up: net.Socket | undefined;
  #upReader = new WireReader();
  #downReader = new WireReader();
  #queue: Promise<void> = Promise.resolve();
  #pending: ((m: RtspMessage | null) => void) | undefined;
  #upCseq = 0;
  #auth: ((method: string, uri: string) => string) | null = null;
  #mode: RtspTransport | undefined;
  #tracks: UdpTrack[] = [];
  #media = 0;
  #closed = false;
  #dropped = 0;

  constructor(down: DownLink, find: (token: string) => Endpoint | undefined, settings: BridgeSettings) {
    this.#down = down;
    this.#find = find;
    this.#udpHost = settings.udpHost;
    this.#connectTimeoutMs = settings.connectTimeoutMs;
    this.#replyTimeoutMs = settings.replyTimeoutMs;
    this.#log = settings.log;
    this.#mergeFragments = settings.mergeFragments;
    down.on('data', (d: Buffer) => this.#onDown(d));
    down.on('close', () => this.close());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ep = this.#ep;
    if (ep) {
      ep.conns.delete(this);
      // 'auto': a connection that never got media on one transport tries the other next time.
      if (ep.source.transport === 'auto' || ep.source.transport === undefined) {
        if (this.#media === 0 && this.#mode) ep.prefer = this.#mode === 'tcp' ? 'udp' : 'tcp';
      }
    }
    if (this.#dropped) this.#log.warn('source proxy: dropped media ffmpeg did not read', { runs: this.#dropped });
    this.#pending?.(null);
    this.#up?.destroy();
    this.#down.destroy();
    for (const t of this.#tracks) {
      t.rtp.close();
      t.rtcp.close();
    }
    this.#tracks = [];
  }

  #fail(reason: string): void {
    if (this.#ep) this.#ep.error = reason;
    this.#log.debug('source proxy: upstream failure', { reason });
  }

  #onDown(d: Buffer): void {
    let items;
    try {
      items = this.#downReader.push(d);
    } catch {
      return this.close();
    }
    for (const item of items) {
      if (item.kind === 'frames') this.#framesUp(item.data);
      else this.#queue = this.#queue.then(() => this.#handle(item.message)).catch(() => this.close());
    }
  }

  /** RTCP receiver reports from ffmpeg. */
  #framesUp(data: Buffer): void {
    if (this.#mode === 'tcp') {
      this.#up?.write(data);
      return;
    }
    const host = this.#up?.remoteAddress;
    if (!host) return;
    for (const f of framesIn(data)) {
      const t = this.#tracks.find((x) => x.rtcpChannel === f.channel);
      if (t?.serverRtcpPort) t.rtcp.send(f.payload, t.serverRtcpPort, host);
    }
  }

  /** A run of interleaved frames as ffmpeg gets it: video fragments joined into NAL units (as they came, without a merger). */
  #merged(run: Buffer): Buffer {
    const merger = this.#merger;
    if (!merger) return run;
    const out: Buffer[] = [];
    for (const f of framesIn(run)) merger.push(f.channel, f.payload, out);
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  #toDown(buf: Buffer): void {
    if (this.#closed || buf.length === 0) return;
    this.#down.write(buf);
  }

  #counted(bytes: number, mode: RtspTransport): void {
    const ep = this.#ep;
    if (!ep) return;
    if (this.#media === 0) {
      ep.error = undefined;
      if (ep.transport !== mode) {
        ep.transport = mode;
        for (const fn of ep.listeners) fn(mode);
      }
      ep.prefer = mode;
    }
    this.#media += bytes;
    ep.bytes += bytes;
  }

  #reply(cseq: string | undefined, status: number, reason: string, extra: Array<[string, string]> = []): void {
    this.#toDown(
      serialize({
        startLine: `RTSP/1.0 ${status} ${reason}`,
        headers: [...(cseq ? ([['CSeq', cseq]] as Array<[string, string]>) : []), ...extra],
        body: Buffer.alloc(0),
      }),
    );
  }

  #toUpstream(url: string): string | null {
    const ep = this.#ep!;
    if (url === '*') return url;
    if (!url.startsWith(ep.prefix)) return null;
    const rest = url.slice(ep.prefix.length);
    return ep.upAuthority + (rest.startsWith('/') ? rest : `/${rest}`);
  }

  /** Camera addresses in a reply become the proxy's, whatever host the camera names (NAT, its own IP). */
  #fromUpstream(text: string): string {
    return text.replace(/\brtsps?:\/\/[^/\s;,"]+/gi, this.#ep!.prefix);
  }

  async #connectUp(): Promise<void> {
    const ep = this.#ep!;
    const u = ep.upstream;
    const port = Number(u.port || RTSP_DEFAULT_PORT[u.protocol]);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const where = `${host}:${port}`;
    await new Promise<void>((resolve, reject) => {
      const s =
        u.protocol === 'rtsps:'
          ? tls.connect({ host, port, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host })
          : net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no answer from ${where} within ${Math.round(this.#connectTimeoutMs / 1000)} s`));
      }, this.#connectTimeoutMs);
      s.once(u.protocol === 'rtsps:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        s.setNoDelay(true);
        this.#up = s;
        s.on('data', (d: Buffer) => this.#onUp(d));
        s.on('error', (e: NodeJS.ErrnoException) => this.#fail(describeNetError(e, where)));
        s.on('close', () => {
          if (!this.#closed) {
            if (!this.#ep?.error) this.#fail(`${where} closed the connection`);
            this.close();
          }
        });
        resolve();
      });
      const onError = (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(describeNetError(e, where)));
      };
      s.once('error', onError);
    });
  }

  #onUp(d: Buffer): void {
    let items;
    try {
      items = this.#upReader.push(d);
    } catch (e) {
      this.#fail(`the camera sent something that is not RTSP (${(e as Error).message})`);
      return this.close();
    }
    for (const item of items) {
      if (item.kind === 'frames') {
        if (this.#mode !== 'tcp') continue;
        this.#counted(item.data.length, 'tcp');
        if (this.#down.writableLength > MAX_QUEUED_BYTES) this.#dropped++;
        else this.#toDown(this.#merged(item.data));
      } else if (statusOf(item.message) !== null) {
        const p = this.#pending;
        this.#pending = undefined;
        p?.(item.message);
      }
      // A request from the camera (ANNOUNCE, keep-alive GET_PARAMETER) is not answered: ffmpeg would not either.
    }
  }

  #send(m: RtspMessage): Promise<RtspMessage | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        resolve(null);
      }, this.#replyTimeoutMs);
      this.#pending = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#up!.write(serialize(m));
    });
  }

  /** One request upstream, answering a Basic/Digest challenge once (again when the nonce went stale). */
  async #exchange(
    method: string,
    url: string,
    from: RtspMessage,
    headers?: Array<[string, string]>,
  ): Promise<RtspMessage | null> {
    const ep = this.#ep!;
    const m: RtspMessage = {
      startLine: `${method} ${url} RTSP/1.0`,
      headers: (headers ?? from.headers).filter(
        ([k]) => !['cseq', 'authorization', 'content-length'].includes(k.toLowerCase()),
      ),
      body: from.body,
    };
    const extra = ep.source.rtspHeaders;
    for (const [k, v] of [...(extra?.all ?? []), ...(method === 'PLAY' ? (extra?.play ?? []) : [])]) setHeader(m, k, v);
    const creds = ep.source.credentials;
    for (let attempt = 0; ; attempt++) {
      setHeader(m, 'CSeq', String(++this.#upCseq));
      setHeader(m, 'Authorization', this.#auth ? this.#auth(method, url) : undefined);
      const res = await this.#send(m);
      if (!res || statusOf(res) !== 401 || attempt > 0) {
        if (res && statusOf(res) === 401)
          this.#fail(
            creds
              ? 'authentication failed: the camera refused the stored user name or password'
              : 'the camera asks for a password and none is stored',
          );
        return res;
      }
      if (!creds) {
        this.#fail('the camera asks for a password and none is stored');
        return res;
      }
      // A first challenge, or a new nonce for a later request (stale or not: cameras differ): answer it once.
      this.#auth = authorizer(headersOf(res, 'www-authenticate'), creds.username, creds.password);
      if (!this.#auth) {
        this.#fail('the camera asks for an authentication scheme the platform does not speak');
        return res;
      }
    }
  }

  #rewriteReply(res: RtspMessage, cseq: string | undefined): RtspMessage {
    const out: RtspMessage = { startLine: res.startLine, headers: [], body: res.body };
    for (const [k, v] of res.headers) {
      const key = k.toLowerCase();
      if (key === 'cseq' || key === 'content-length' || key === 'www-authenticate') continue;
      if (['content-base', 'content-location', 'rtp-info', 'location'].includes(key))
        out.headers.push([k, this.#fromUpstream(v)]);
      else out.headers.push([k, v]);
    }
    if (cseq) out.headers.unshift(['CSeq', cseq]);
    if (res.body.length && /application\/sdp/i.test(header(res, 'content-type') ?? '')) {
      const sdp = res.body
        .toString('utf8')
        .split(/\r?\n/)
        .map((l) => (l.startsWith('a=control:') ? this.#fromUpstream(l) : l))
        .join('\r\n');
      out.body = Buffer.from(sdp, 'utf8');
      // An in-process reader depacketizes itself: it gets the camera's packets as they came, no merger.
      if (this.#mergeFragments && !this.#down.local) {
        const types = mergeablePayloadTypes(sdp);
        this.#merger = types.size ? new FragmentMerger(types) : null;
      }
    }
    return out;
  }

  async #handle(req: RtspMessage): Promise<void> {
    if (this.#closed) return;
    const cseq = header(req, 'cseq');
    const rl = requestLine(req);
    if (!rl) return this.#reply(cseq, 400, 'Bad Request');
    if (!this.#ep) {
      const token = /^rtsp:\/\/[^/]+\/([^/?]+)/.exec(rl.url)?.[1];
      const ep = token ? this.#find(token) : undefined;
      if (!ep || ep.closed || ep.kind !== 'rtsp') {
        this.#reply(cseq, 404, 'Not Found');
        return this.close();
      }
      if (ep.conns.size > 0) {
        // One ffmpeg per endpoint: a second connection with a token read from /proc is not served.
        this.#reply(cseq, 453, 'Not Enough Bandwidth');
        return this.close();
      }
      this.#ep = ep;
      ep.conns.add(this);
    }
    const url = this.#toUpstream(rl.url);
    if (url === null) return this.#reply(cseq, 404, 'Not Found');
    if (!this.#up) {
      try {
        await this.#connectUp();
      } catch (e) {
        this.#fail((e as Error).message);
        this.#reply(cseq, 503, 'Service Unavailable');
        return this.close();
      }
    }
    if (rl.method === 'SETUP') return this.#setup(req, url, cseq);
    const res = await this.#exchange(rl.method, url, req);
    if (!res) {
      if (!this.#closed)
        this.#fail(`the camera did not answer ${rl.method} within ${Math.round(this.#replyTimeoutMs / 1000)} s`);
      this.#reply(cseq, 504, 'Gateway Time-out');
      return this.close();
    }
    const status = statusOf(res) ?? 0;
    if (status >= 300 && status !== 401) this.#fail(`${rl.method} answered ${res.startLine.slice(9)}`);
    this.#toDown(serialize(this.#rewriteReply(res, cseq)));
    if (rl.method === 'PLAY' && status >= 200 && status < 300 && this.#ep) {
      for (const fn of this.#ep.playing) {
        try {
          fn();
        } catch (err) {
          this.#log.error('source proxy playing listener failed', { err: String(err) });
        }
      }
    }
  }

  async #setup(req: RtspMessage, url: string, cseq: string | undefined): Promise<void> {
    const ep = this.#ep!;
    const asked = parseTransport(header(req, 'transport') ?? '');
    const channels = pair(asked.params.get('interleaved'));
    if (!/\/TCP$/i.test(asked.profile) || !channels) {
      // The relay always asks for TCP interleaved; anything else is not ours to pass on.
      return this.#reply(cseq, 461, 'Unsupported Transport');
    }
    const mode = ep.source.transport ?? 'auto';
    const order: RtspTransport[] = this.#mode
      ? [this.#mode]
      : mode === 'auto'
        ? ep.prefer === 'udp'
          ? ['udp', 'tcp']
          : ['tcp', 'udp']
        : [mode];
    let last: RtspMessage | null = null;
    for (const t of order) {
      if (t === 'tcp') {
        last = await this.#exchange('SETUP', url, req);
        if (last && statusOf(last) === 200) {
          this.#mode = 'tcp';
          return this.#toDown(serialize(this.#rewriteReply(last, cseq)));
        }
      } else {
        let pairOf: Awaited<ReturnType<typeof bindUdpPair>>;
        try {
          pairOf = await bindUdpPair(this.#udpHost);
        } catch (e) {
          this.#fail((e as Error).message);
          continue;
        }
        const headers = req.headers.map(([k, v]): [string, string] =>
          k.toLowerCase() === 'transport'
            ? [k, `RTP/AVP;unicast;client_port=${pairOf.port}-${pairOf.port + 1}`]
            : [k, v],
        );
        last = await this.#exchange('SETUP', url, req, headers);
        if (last && statusOf(last) === 200) {
          const given = parseTransport(header(last, 'transport') ?? '');
          const server = pair(given.params.get('server_port'));
          const track: UdpTrack = {
            rtpChannel: channels[0],
            rtcpChannel: channels[1],
            rtp: pairOf.rtp,
            rtcp: pairOf.rtcp,
            serverRtcpPort: server ? server[1] : null,
          };
          this.#tracks.push(track);
          this.#mode = 'udp';
          const cameraHost = this.#up?.remoteAddress?.replace(/^::ffff:/, '');
          let from: string | undefined;
          const onPacket = (channel: number) => (msg: Buffer, rinfo: { address: string }) => {
            // One sender only, so nobody else on the network can inject a picture: the camera's address, or
            // the first to send (a camera or NVR with several addresses may send media from another one).
            const sender = rinfo.address.replace(/^::ffff:/, '');
            from ??= sender === cameraHost ? sender : this.#media === 0 ? sender : cameraHost;
            if (sender !== from || this.#closed) return;
            if (channel === track.rtpChannel) this.#counted(msg.length, 'udp');
            if (this.#down.writableLength > MAX_QUEUED_BYTES) this.#dropped++;
            else this.#toDown(this.#merged(frame(channel, msg)));
          };
          track.rtp.on('message', onPacket(track.rtpChannel));
          track.rtcp.on('message', onPacket(track.rtcpChannel));
          const ssrc = given.params.get('ssrc');
          const res = this.#rewriteReply(last, cseq);
          setHeader(
            res,
            'Transport',
            `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}${ssrc ? `;ssrc=${ssrc}` : ''}`,
          );
          return this.#toDown(serialize(res));
        }
        pairOf.rtp.close();
        pairOf.rtcp.close();
      }
      const status = last ? statusOf(last) : null;
      if (status === null || status === 401 || status === 403 || status === 404 || status === 454) break;
    }
    if (!last) {
      this.#fail(`the camera did not answer SETUP within ${Math.round(this.#replyTimeoutMs / 1000)} s`);
      this.#reply(cseq, 504, 'Gateway Time-out');
      return this.close();
    }
    const status = statusOf(last);
    if (status !== 401) {
      const tried = order.map((t) => t.toUpperCase()).join(' and ');
      this.#fail(
        status === 461
          ? `the camera refused RTSP over ${tried} (461 Unsupported Transport)`
          : `SETUP over ${tried} answered ${last.startLine.slice(9)}`,
      );
    }
    this.#toDown(serialize(this.#rewriteReply(last, cseq)));
  }
}

// ---------------------------------------------------------------------------------------------- HTTP

const PASS_REQUEST = ['range', 'user-agent', 'accept', 'icy-metadata'];
const PASS_RESPONSE = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'icy-metaint'];

function forwardHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  find: (token: string) => Endpoint | undefined,
  connectTimeoutMs: number,
  log: MediaLogger,
): void {
  const m = /^\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(req.url ?? '');
  const ep = m ? find(m[1]!) : undefined;
  if (!m || !ep || ep.closed || ep.kind !== 'http' || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404).end();
    return;
  }
  const target = new URL(ep.upAuthority + (m[2] ?? '/') + (m[3] ?? ''));
  const conn = { close: () => res.destroy() };
  ep.conns.add(conn);
  res.on('close', () => ep.conns.delete(conn));
  const where = `${target.hostname}:${target.port}`;
  const go = (authorization: string | undefined, retried: boolean) => {
    const headers: Record<string, string> = {};
    for (const h of PASS_REQUEST) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    if (authorization) headers['authorization'] = authorization;
    const lib = target.protocol === 'https:' ? https : http;
    const up = lib.request(
      target,
      { method: req.method, headers, timeout: connectTimeoutMs, rejectUnauthorized: false },
      (upRes) => {
        const creds = ep.source.credentials;
        if (upRes.statusCode === 401 && creds && !retried) {
          const auth = authorizer(
            ([] as string[]).concat(upRes.headers['www-authenticate'] ?? []),
            creds.username,
            creds.password,
          );
          upRes.resume();
          if (auth) return go(auth(req.method ?? 'GET', target.pathname + target.search), true);
        }
        if ((upRes.statusCode ?? 500) >= 400) ep.error = `${where} answered HTTP ${upRes.statusCode}`;
        else {
          ep.error = undefined;
          upRes.on('data', (d: Buffer) => (ep.bytes += d.length));
        }
        const out: Record<string, string | string[]> = {};
        for (const h of PASS_RESPONSE) {
          const v = upRes.headers[h];
          if (v !== undefined) out[h] = v;
        }
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
      },
    );
    up.on('timeout', () => up.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    up.on('error', (e: NodeJS.ErrnoException) => {
      ep.error = describeNetError(e, where);
      log.debug('source proxy: HTTP source failed', { err: ep.error });
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => up.destroy());
    up.end();
  };
  go(undefined, false);
}
