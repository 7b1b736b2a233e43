/**
 * RTSP 1.0 server (RFC 2326) for one simulated camera, bound to the camera's own loopback address.
 * RTP goes over TCP interleaved (what the relay uses) or UDP unicast to the client's loopback ports.
 * Media is the camera's pre-encoded clip played on the profile's live timeline (live.ts): every session
 * gets the same frames at the same moment and a new one starts at the next keyframe, as from a real camera.
 * Cameras with `idrOnConnect` instead start each session on an IDR at once: its own position in the
 * camera's clip, or, while that clip is not ready, in the shared placeholder clip of its geometry, moving to
 * the camera's own clip at the next keyframe with RTP sequence numbers and timestamps running on.
 * Nothing is spawned per session.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import type { ClipParams, ClipStore } from './clips.ts';
import { interleavedAccessUnit, rtcpSenderReport, rtpPacket, payloadSize, type H264Stream } from './h264.ts';
import { checkAuthorization, digestChallenge } from './http-auth.ts';
import { LiveTimeline, type LiveFrame, type LivePicture, type LiveViewer } from './live.ts';
import { REPLAY_PATH, compactClock, parseReplayRange, type SimRecording } from './recordings.ts';
import { ReplayFeed } from './replay.ts';
import { isLoopbackV4 } from './specs.ts';
import type { StreamTicker } from './ticker.ts';
import type { SimCounters, SimFaults, SimStreamName, SimStreamProfile } from './types.ts';

export const MAX_RTSP_HEADER = 16 * 1024;
const MAX_RTSP_BODY = 64 * 1024;
/** Above this many queued bytes a TCP client is too slow: frames are dropped until the next IDR. */
const HIGH_WATER = 1024 * 1024;
/** A client that stays backed up this long is disconnected. */
const STALL_DROP_MS = 10_000;
const MAX_CONNECTIONS = 64;
/** A clip on disk loads in milliseconds: wait this long for it before starting on the placeholder. */
const DISK_GRACE_MS = 250;

export interface RtspCamera {
  readonly code: string;
  readonly host: string;
  readonly username: string;
  readonly password: string;
  readonly model: string;
  readonly serial: string;
  /** Every new session starts on an IDR at once (its own clip position) instead of joining mid-GOP. */
  readonly idrOnConnect: boolean;
  faults(): SimFaults;
  profile(stream: SimStreamName): SimStreamProfile;
  /** The camera's own clip; in shared clip mode, the placeholder (`placeholder: true`). */
  clipParams(stream: SimStreamName): ClipParams;
  /** The shared placeholder clip of the stream's geometry. */
  placeholderParams(stream: SimStreamName): ClipParams;
  /** Its own recordings (Profile G replay); undefined on a camera without them. */
  recording(): SimRecording | undefined;
  deviceNowMs(): number;
}

export interface RtspDeps {
  clips: ClipStore;
  ticker: StreamTicker;
  counters: SimCounters;
  /** 'optional': no credentials is fine, wrong ones are not. 'required': always challenge. */
  auth: 'optional' | 'required';
  sessionTimeoutSec: number;
  maxSessions: number;
  log?: (msg: string) => void;
}

/** Which stream a URL names: Hikvision, Dahua and Uniview path styles are all understood. */
export function streamForPath(urlOrPath: string): SimStreamName | undefined {
  let p = urlOrPath;
  const m = /^rtsp:\/\/[^/]*(\/.*)?$/i.exec(p);
  if (m) p = m[1] ?? '/';
  const [pathPart = '', query = ''] = p.split('?');
  const clean = pathPart.replace(/\/(trackID=\d+|track\d+)\/?$/i, '').replace(/\/+$/, '');
  const ch = /^\/Streaming\/Channels\/(\d+)$/i.exec(clean);
  if (ch) {
    const n = ch[1]!;
    if (n === '1' || n === '101') return 'main';
    if (n === '2' || n === '102') return 'sub';
    return undefined;
  }
  if (/^\/cam\/realmonitor$/i.test(clean)) {
    const q = new URLSearchParams(query.replace(/\/(trackID=\d+|track\d+)\/?$/i, ''));
    const sub = q.get('subtype') ?? '0';
    return sub === '0' ? 'main' : sub === '1' ? 'sub' : undefined;
  }
  if (/^\/media\/video1$/i.test(clean)) return 'main';
  if (/^\/media\/video2$/i.test(clean)) return 'sub';
  return undefined;
}

/** The replay URL GetReplayUri hands out (Hikvision's track path), with or without a track suffix. */
export function isReplayPath(urlOrPath: string): boolean {
  const m = /^rtsp:\/\/[^/]*(\/.*)?$/i.exec(urlOrPath);
  const p = (m ? (m[1] ?? '/') : urlOrPath).split('?')[0]!;
  return p.replace(/\/(trackID=\d+|track\d+)\/?$/i, '').replace(/\/+$/, '') === REPLAY_PATH;
}

export const streamPath = (s: SimStreamName) => `/Streaming/Channels/${s === 'main' ? '101' : '102'}`;

export function buildSdp(o: {
  host: string;
  sessionId: string;
  profile: SimStreamProfile;
  stream: H264Stream;
}): string {
  const p = o.profile;
  return [
    'v=0',
    `o=- ${o.sessionId} 1 IN IP4 ${o.host}`,
    's=Media Presentation',
    'e=NONE',
    `b=AS:${p.bitrateKbps + 64}`,
    't=0 0',
    'a=control:*',
    'm=video 0 RTP/AVP 96',
    'c=IN IP4 0.0.0.0',
    `b=AS:${p.bitrateKbps}`,
    'a=recvonly',
    `a=x-dimensions:${p.width},${p.height}`,
    'a=control:trackID=1',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 profile-level-id=${o.stream.profileLevelId};packetization-mode=1;sprop-parameter-sets=${o.stream.spropParameterSets}`,
    `a=framerate:${p.fps}`,
    '',
  ].join('\r\n');
}

interface Request {
  method: string;
  url: string;
  headers: Map<string, string>;
  body: Buffer;
}

type Transport =
  | { kind: 'tcp'; rtp: number; rtcp: number }
  | { kind: 'udp'; clientHost: string; rtpPort: number; rtcpPort: number; rtpSock: UdpSocket; rtcpSock: UdpSocket };

class Session implements LiveViewer {
  readonly id: string;
  readonly stream: SimStreamName;
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  seq = randomInt(0, 0x8000);
  transport: Transport;
  conn: Connection;
  state: 'ready' | 'playing' | 'paused' = 'ready';
  lastActivity = Date.now();
  readonly #server: RtspServer;
  readonly #timeline: LiveTimeline;
  /** The camera sends a new session an IDR at once (today's cameras that do); else it joins mid-GOP. */
  readonly #idrOnConnect: boolean;
  #needIdr = true;
  #syncAsked = false;
  #packets = 0;
  #octets = 0;
  #lastSr = 0;
  #backedUpSince = 0;
  // Only with idrOnConnect: the session runs its own position in its own clip, starting at an IDR.
  /** The clip being sent: the camera's own, or the placeholder until the own one is ready. */
  #clip: H264Stream | undefined;
  /** The camera's own clip once loaded (a reference is held); sent from the next keyframe on. */
  #own: H264Stream | undefined;
  #placeholder: H264Stream | undefined;
  /** Not before this (performance.now()) does a session start on the placeholder. */
  #placeholderAfter = 0;
  #loading = false;
  /** Aborted when the session ends: an own-clip encode nobody watches any more drops to the background. */
  readonly #gone = new AbortController();
  #clipPos = 0;
  /** What `#own` was acquired as (the camera's parameters may change while it plays). */
  #ownParams: ClipParams | undefined;
  /** Timeline frame of `#clipPos`. */
  #posFrame = 0;
  /** A replay session (Profile G): set up on the replay URL, fed by its own ReplayFeed from PLAY on. */
  readonly replay: boolean;
  #feed: ReplayFeed | undefined;

  constructor(server: RtspServer, conn: Connection, stream: SimStreamName, transport: Transport, replay = false) {
    this.replay = replay;
    this.#server = server;
    this.conn = conn;
    this.stream = stream;
    this.transport = transport;
    this.id = String(randomInt(10_000_000, 2_000_000_000));
    this.#timeline = server.timeline(stream);
    this.#idrOnConnect = server.camera.idrOnConnect;
  }

  /** RTP-Info values: the next sequence number, and the RTP time of the timeline's next frame. */
  nextRtpInfo(): { seq: number; rtptime: number } {
    if (this.#feed) return { seq: this.seq & 0xffff, rtptime: this.#feed.rtpTime() };
    return { seq: this.seq & 0xffff, rtptime: this.#timeline.rtpTime(this.#timeline.nextFrame()) };
  }

  /**
   * PLAY on a replay session: a new feed from `startMs` at `scale` (a PLAY while playing repositions, as
   * ONVIF replay allows). Returns where it really starts (the next recorded moment when that is a gap).
   */
  playReplay(startMs: number, endMs: number | undefined, scale: number): number {
    const server = this.#server;
    const rec = server.camera.recording()!;
    this.#feed?.stop();
    const params = server.camera.clipParams(this.stream);
    const clips = server.deps.clips;
    const feed = new ReplayFeed({
      fps: params.profile.fps,
      gopFrames: params.gopFrames,
      ticker: server.deps.ticker,
      clip: {
        acquire: (signal) => clips.acquire(params, signal),
        release: () => clips.release(params),
      },
      recording: rec,
      deviceNowMs: () => server.camera.deviceNowMs(),
      startMs,
      ...(endMs !== undefined ? { endMs } : {}),
      scale,
      key: `${server.camera.code}/${this.id}`,
      send: (pic, f, now) => {
        if (this.state !== 'playing') return;
        if (this.conn.socket.destroyed) {
          server.endSession(this);
          return;
        }
        this.#send(pic, f, now);
      },
      ...(server.deps.log ? { log: server.deps.log } : {}),
    });
    this.#feed = feed;
    this.#needIdr = true;
    if (this.state !== 'playing') {
      this.state = 'playing';
      server.deps.counters.rtspPlaying++;
    }
    feed.start();
    return feed.startMs;
  }

  play(): void {
    const now = performance.now();
    // A live camera does not stop its clock while a viewer pauses: it resumes at a keyframe.
    if (this.state === 'paused') this.#needIdr = true;
    if (this.state !== 'playing') {
      this.state = 'playing';
      this.#server.deps.counters.rtspPlaying++;
    }
    this.#timeline.join(this, !this.#idrOnConnect);
    if (this.#idrOnConnect) this.#loadClips(now);
  }

  /**
   * idrOnConnect: the camera's own clip when it is in memory; otherwise the placeholder at once (after a
   * short grace when the own clip is on disk) while the own clip is loaded, or encoded in the background.
   */
  #loadClips(now: number): void {
    if (this.#own || this.#loading) return;
    const { clips, log } = this.#server.deps;
    const camera = this.#server.camera;
    const own = camera.clipParams(this.stream);
    if (own.placeholder) {
      this.#loadPlaceholder(own);
      return;
    }
    const ready = clips.tryAcquire(own);
    if (ready) {
      this.#own = ready;
      this.#ownParams = own;
      return;
    }
    if (clips.onDisk(own)) this.#placeholderAfter = now + DISK_GRACE_MS;
    this.#loadPlaceholder(camera.placeholderParams(this.stream));
    this.#loading = true;
    clips.acquire(own, this.#gone.signal).then(
      (clip) => {
        this.#loading = false;
        if (!this.#server.hasSession(this)) {
          clips.release(own);
          return;
        }
        this.#own = clip;
        this.#ownParams = own;
      },
      (e: unknown) => {
        this.#loading = false;
        log?.(`clip for ${camera.code}/${this.stream} failed: ${String(e)}`);
      },
    );
  }

  #loadPlaceholder(p: ClipParams): void {
    if (this.#placeholder) return;
    const { clips, log } = this.#server.deps;
    this.#placeholder = clips.placeholderNow(p);
    if (this.#placeholder) return;
    clips.placeholder(p).then(
      (clip) => {
        this.#placeholder = clip;
      },
      (e: unknown) => log?.(`placeholder clip ${p.profile.width}x${p.profile.height} failed: ${String(e)}`),
    );
  }

  pause(): void {
    if (this.state === 'playing') this.#server.deps.counters.rtspPlaying--;
    this.state = 'paused';
    this.#timeline.leave(this);
    this.#feed?.stop();
    this.#feed = undefined;
  }

  close(): void {
    if (this.state === 'playing') this.#server.deps.counters.rtspPlaying--;
    this.state = 'ready';
    this.#timeline.leave(this);
    this.#feed?.stop();
    this.#feed = undefined;
    this.#gone.abort();
    if (this.#own) this.#server.deps.clips.release(this.#ownParams ?? this.#server.camera.clipParams(this.stream));
    this.#own = undefined;
    this.#ownParams = undefined;
    this.#placeholder = undefined;
    this.#clip = undefined;
    if (this.transport.kind === 'udp') {
      this.transport.rtpSock.close();
      this.transport.rtcpSock.close();
    }
  }

  frame(f: LiveFrame, now: number): void {
    if (this.state !== 'playing') return;
    if (this.conn.socket.destroyed) {
      this.#server.endSession(this);
      return;
    }
    if (f.gap) this.#needIdr = true;
    const pic = this.#idrOnConnect ? this.#ownPicture(f, now) : f.live;
    if (pic) this.#send(pic, f, now);
  }

  /** A synchronization point on an idrOnConnect session (its own clip position): from the next keyframe on. */
  syncPoint(): void {
    if (this.#idrOnConnect && this.#clip) this.#syncAsked = true;
  }

  /** idrOnConnect: this session's own clip position, from an IDR at its start; frames pace by the timeline. */
  #ownPicture(f: LiveFrame, now: number): LivePicture | undefined {
    if (!this.#clip) {
      // Nothing sent yet: the own clip if it is here, else the placeholder (once its grace is over).
      const first = this.#own ?? (now >= this.#placeholderAfter ? this.#placeholder : undefined);
      if (!first) return undefined;
      this.#clip = first;
      this.#clipPos = 0;
      this.#posFrame = f.n;
      this.#needIdr = true;
    }
    this.#clipPos = (this.#clipPos + f.n - this.#posFrame) % this.#clip.aus.length;
    this.#posFrame = f.n;
    if (this.#syncAsked) {
      this.#syncAsked = false;
      while (!this.#clip.aus[this.#clipPos]!.idr) this.#clipPos = (this.#clipPos + 1) % this.#clip.aus.length;
    }
    this.#switchAtKeyframe();
    return f.picture(this.#clip, this.#clipPos);
  }

  /**
   * Placeholder → own clip, only where a keyframe is due anyway (or while waiting for one): the own clip's
   * first picture is an IDR carrying SPS/PPS, and sequence numbers and timestamps simply run on.
   */
  #switchAtKeyframe(): void {
    const own = this.#own;
    const clip = this.#clip;
    if (!own || !clip || clip === own) return;
    if (!this.#needIdr && !clip.aus[this.#clipPos]?.idr) return;
    this.#clip = own;
    this.#clipPos = 0;
    this.#server.deps.counters.clipSwitches++;
  }

  #send(pic: LivePicture, f: LiveFrame, now: number): void {
    const deps = this.#server.deps;
    const faults = this.#server.camera.faults();
    if (faults.stalledStream) {
      this.#needIdr = true;
      return;
    }
    if (this.transport.kind === 'tcp') {
      const sock = this.conn.socket;
      if (sock.writableLength > HIGH_WATER) {
        deps.counters.droppedFrames++;
        this.#needIdr = true;
        if (!this.#backedUpSince) this.#backedUpSince = now;
        else if (now - this.#backedUpSince > STALL_DROP_MS) sock.destroy();
        return;
      }
      this.#backedUpSince = 0;
    }
    // A session joining mid-GOP gets nothing before the next keyframe, as from a real camera.
    if (this.#needIdr && !pic.idr) return;
    this.#needIdr = false;
    const { payloads } = pic;
    const ts = f.rtpTime;
    let bytes = 0;
    for (const p of payloads) bytes += 12 + payloadSize(p);
    if (this.transport.kind === 'tcp') {
      this.conn.socket.write(interleavedAccessUnit(payloads, this.transport.rtp, this.seq, ts, this.ssrc));
    } else {
      const t = this.transport;
      for (let i = 0; i < payloads.length; i++) {
        t.rtpSock.send(rtpPacket(payloads[i]!, this.seq + i, ts, this.ssrc), t.rtpPort, t.clientHost);
      }
    }
    this.seq = (this.seq + payloads.length) & 0xffff;
    this.#packets += payloads.length;
    this.#octets += bytes - 12 * payloads.length;
    deps.counters.rtpPackets += payloads.length;
    deps.counters.rtpBytes += bytes;
    if (!this.#lastSr || now - this.#lastSr > 5000) {
      // Sender reports map RTP time to the frames' capture time (the wall clock stamped into them).
      this.#lastSr = now;
      const sr = rtcpSenderReport(this.ssrc, f.captureMs, ts, this.#packets, this.#octets);
      if (this.transport.kind === 'tcp') {
        const head = Buffer.from([0x24, this.transport.rtcp, 0, sr.length]);
        this.conn.socket.write(Buffer.concat([head, sr]));
      } else {
        this.transport.rtcpSock.send(sr, this.transport.rtcpPort, this.transport.clientHost);
      }
    }
  }
}

class Connection {
  readonly socket: net.Socket;
  readonly sessions = new Set<Session>();
  #buf: Buffer = Buffer.alloc(0);
  readonly #server: RtspServer;

  constructor(server: RtspServer, socket: net.Socket) {
    this.#server = server;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(60_000, () => {
      // Idle control connections go; a connection carrying interleaved media is never idle.
      socket.destroy();
    });
    socket.on('data', (d) => this.#onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const s of [...this.sessions]) server.endSession(s);
      server.connections.delete(this);
    });
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
    while (this.#buf.length && !this.socket.destroyed) {
      if (this.#buf[0] === 0x24) {
        // Interleaved RTCP from the client (receiver reports): proof of life, otherwise ignored.
        if (this.#buf.length < 4) return;
        const len = this.#buf.readUInt16BE(2);
        if (this.#buf.length < 4 + len) return;
        this.#buf = this.#buf.subarray(4 + len);
        for (const s of this.sessions) s.lastActivity = Date.now();
        continue;
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buf.length > MAX_RTSP_HEADER) this.#fail(400, 'Request Header Too Large');
        return;
      }
      if (end > MAX_RTSP_HEADER) return this.#fail(400, 'Request Header Too Large');
      const head = this.#buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const m = /^([A-Z_]{3,20}) (\S{1,4096}) RTSP\/1\.0$/.exec(lines[0] ?? '');
      if (!m) return this.#fail(400, 'Bad Request');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
      }
      const len = Number(headers.get('content-length') ?? 0);
      if (!Number.isInteger(len) || len < 0 || len > MAX_RTSP_BODY) return this.#fail(413, 'Request Entity Too Large');
      if (this.#buf.length < end + 4 + len) return;
      const body = this.#buf.subarray(end + 4, end + 4 + len);
      this.#buf = this.#buf.subarray(end + 4 + len);
      this.#server.handle(this, { method: m[1]!, url: m[2]!, headers, body });
    }
  }

  #fail(status: number, reason: string): void {
    this.socket.end(`RTSP/1.0 ${status} ${reason}\r\nConnection: close\r\n\r\n`);
    this.socket.destroySoon();
    this.#buf = Buffer.alloc(0);
  }
}

const PUBLIC = 'OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER';

export class RtspServer {
  readonly camera: RtspCamera;
  readonly deps: RtspDeps;
  readonly connections = new Set<Connection>();
  readonly #sessions = new Map<string, Session>();
  readonly #timelines = new Map<SimStreamName, LiveTimeline>();
  #server: net.Server | undefined;
  port: number;

  constructor(camera: RtspCamera, port: number, deps: RtspDeps) {
    this.camera = camera;
    this.port = port;
    this.deps = deps;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  hasSession(s: Session): boolean {
    return this.#sessions.get(s.id) === s;
  }

  /** The profile's live timeline: one per camera profile, shared by all its sessions. */
  timeline(stream: SimStreamName): LiveTimeline {
    let t = this.#timelines.get(stream);
    if (t) return t;
    const { clips, ticker, log } = this.deps;
    const params = () => this.camera.clipParams(stream);
    const p = params();
    // What each held clip was acquired as: after a picture fault changes, the old clip is released by its own
    // parameters, not by the camera's new ones.
    const held = new Map<unknown, ClipParams>();
    const hold = <T>(clip: T, q: ClipParams): T => {
      if (clip) held.set(clip, q);
      return clip;
    };
    t = new LiveTimeline({
      fps: p.profile.fps,
      gopFrames: p.gopFrames,
      phaseKey: `${this.camera.code}/${stream}`,
      ticker,
      log: (m) => log?.(`${this.camera.code}/${stream}: ${m}`),
      source: {
        tryAcquire: () => {
          const q = params();
          return hold(q.placeholder ? clips.placeholderNow(q) : clips.tryAcquire(q), q);
        },
        acquire: (signal) => {
          const q = params();
          return (q.placeholder ? clips.placeholder(q) : clips.acquire(q, signal)).then((c) => hold(c, q));
        },
        release: (clip) => {
          const q = (clip && held.get(clip)) ?? params();
          if (clip) held.delete(clip);
          if (!q.placeholder) clips.release(q);
        },
      },
    });
    this.#timelines.set(stream, t);
    return t;
  }

  /** The camera's clip parameters changed (a picture fault): every timeline switches at its next keyframe. */
  reloadClips(): void {
    for (const t of this.#timelines.values()) t.reload();
  }

  /** ONVIF SetSynchronizationPoint on a profile: its next picture is an IDR, for every session of it. */
  syncPoint(stream: SimStreamName): void {
    this.#timelines.get(stream)?.syncPoint();
    for (const s of this.#sessions.values()) if (s.stream === stream) s.syncPoint();
  }

  async listen(): Promise<number> {
    if (!isLoopbackV4(this.camera.host)) throw new Error(`refusing to bind RTSP off loopback: ${this.camera.host}`);
    const server = net.createServer((socket) => {
      if (this.connections.size >= MAX_CONNECTIONS) {
        socket.destroy();
        return;
      }
      this.deps.counters.rtspConnections++;
      this.connections.add(new Connection(this, socket));
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.camera.host, port: this.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.#server = server;
    return this.port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of [...this.#sessions.values()]) this.endSession(s);
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  endSession(s: Session): void {
    if (this.#sessions.get(s.id) !== s) return;
    this.#sessions.delete(s.id);
    s.conn.sessions.delete(s);
    s.close();
    this.deps.counters.rtspSessions--;
  }

  /** Ends UDP sessions whose client stopped sending keep-alives. */
  sweep(nowMs: number): void {
    for (const s of this.#sessions.values()) {
      if (s.transport.kind === 'udp' && nowMs - s.lastActivity > this.deps.sessionTimeoutSec * 1000) this.endSession(s);
    }
  }

  handle(conn: Connection, req: Request): void {
    const cseq = req.headers.get('cseq') ?? '0';
    const reply = (status: number, reason: string, headers: Record<string, string> = {}, body = '') => {
      let out = `RTSP/1.0 ${status} ${reason}\r\nCSeq: ${cseq}\r\nServer: Rtsp Server/3.0\r\nDate: ${new Date().toUTCString()}\r\n`;
      for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
      if (body) out += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
      conn.socket.write(`${out}\r\n${body}`);
    };
    const { method } = req;
    const faults = this.camera.faults();
    if (faults.offline) {
      conn.socket.destroy();
      return;
    }
    // RFC 2326 12.32: a feature the client requires and we lack is refused; ONVIF replay is the one we have.
    const unsupported = (req.headers.get('require') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t && t.toLowerCase() !== 'onvif-replay');
    if (unsupported.length) return reply(551, 'Option not supported', { Unsupported: unsupported.join(', ') });
    if (method === 'OPTIONS') return reply(200, 'OK', { Public: PUBLIC });

    const cred = checkAuthorization(
      req.headers.get('authorization'),
      method,
      this.camera.username,
      this.camera.password,
    );
    const denied = faults.wrongPassword || cred === 'bad' || (cred === 'absent' && this.deps.auth === 'required');
    if (denied) {
      this.deps.counters.authFailures++;
      return reply(401, 'Unauthorized', {
        'WWW-Authenticate': digestChallenge(`IP Camera(${this.camera.serial.slice(-5)})`),
      });
    }

    const sessionHeader = req.headers.get('session')?.split(';')[0]?.trim();
    const session = sessionHeader ? this.#sessions.get(sessionHeader) : undefined;
    if (session) session.lastActivity = Date.now();

    switch (method) {
      case 'DESCRIBE':
        return void this.#describe(req, reply);
      case 'SETUP':
        return this.#setup(conn, req, session, reply);
      case 'PLAY': {
        if (!session) return reply(454, 'Session Not Found');
        if (session.replay) return this.#playReplay(req, session, reply);
        const info = session.nextRtpInfo();
        const base = req.url.replace(/\/(trackID=\d+)?$/, '');
        session.play();
        return reply(200, 'OK', {
          Session: session.id,
          Range: 'npt=now-',
          'RTP-Info': `url=${base}/trackID=1;seq=${info.seq};rtptime=${info.rtptime}`,
        });
      }
      case 'PAUSE':
        if (!session) return reply(454, 'Session Not Found');
        session.pause();
        return reply(200, 'OK', { Session: session.id });
      case 'TEARDOWN':
        if (session) this.endSession(session);
        return reply(200, 'OK', session ? { Session: session.id } : {});
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return reply(200, 'OK', session ? { Session: `${session.id};timeout=${this.deps.sessionTimeoutSec}` } : {});
      default:
        return reply(405, 'Method Not Allowed', { Allow: PUBLIC });
    }
  }

  /**
   * PLAY of a replay (ONVIF Streaming, Replay): `Range: clock=<start>-[<end>]` picks the moment (npt or none:
   * the recording's start), `Scale` the speed (positive only: this camera does not play backwards).
   */
  #playReplay(
    req: Request,
    session: Session,
    reply: (status: number, reason: string, headers?: Record<string, string>, body?: string) => void,
  ): void {
    const rec = this.camera.recording();
    if (!rec) return reply(404, 'Not Found');
    const range = parseReplayRange(req.headers.get('range'));
    if (!range) return reply(457, 'Invalid Range');
    const scaleText = req.headers.get('scale');
    const scale = scaleText === undefined ? 1 : Number(scaleText);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 16) {
      return reply(456, 'Header Field Not Valid for Resource');
    }
    const startMs = range.kind === 'clock' ? range.ms : rec.earliest() + range.sec * 1000;
    const start = session.playReplay(startMs, range.kind === 'clock' ? range.endMs : undefined, scale);
    const info = session.nextRtpInfo();
    const base = req.url.replace(/\/(trackID=\d+)?$/, '');
    return reply(200, 'OK', {
      Session: session.id,
      Range: `clock=${compactClock(start)}-`,
      Scale: String(scale),
      'RTP-Info': `url=${base}/trackID=1;seq=${info.seq};rtptime=${info.rtptime}`,
    });
  }

  async #describe(
    req: Request,
    reply: (status: number, reason: string, headers?: Record<string, string>, body?: string) => void,
  ): Promise<void> {
    const replay = isReplayPath(req.url);
    const stream = replay ? (this.camera.recording() ? 'main' : undefined) : streamForPath(req.url);
    if (!stream) return reply(404, 'Not Found');
    const accept = req.headers.get('accept');
    if (accept && !accept.includes('application/sdp') && !accept.includes('*/*')) {
      return reply(406, 'Not Acceptable');
    }
    try {
      const profile = this.camera.profile(stream);
      // The shared clip of the geometry: same encoder settings as the camera's own clip, so the same SPS/PPS.
      const h264 = await this.deps.clips.placeholder(this.camera.placeholderParams(stream));
      const base = `rtsp://${this.camera.host}:${this.port}${replay ? REPLAY_PATH : streamPath(stream)}/`;
      const sdp = buildSdp({
        host: this.camera.host,
        sessionId: String(Date.now()),
        profile,
        stream: h264,
      });
      reply(200, 'OK', { 'Content-Type': 'application/sdp', 'Content-Base': base }, sdp);
    } catch (e) {
      this.deps.log?.(`DESCRIBE ${this.camera.code}: ${String(e)}`);
      reply(500, 'Internal Server Error');
    }
  }

  #setup(
    conn: Connection,
    req: Request,
    existing: Session | undefined,
    reply: (status: number, reason: string, headers?: Record<string, string>, body?: string) => void,
  ): void {
    const replay = isReplayPath(req.url);
    const stream = replay ? (this.camera.recording() ? 'main' : undefined) : streamForPath(req.url);
    if (!stream) return reply(404, 'Not Found');
    if (existing) return reply(459, 'Aggregate Operation Not Allowed');
    if (this.#sessions.size >= this.deps.maxSessions) return reply(453, 'Not Enough Bandwidth');
    const t = req.headers.get('transport') ?? '';
    const spec = t.split(',')[0] ?? '';
    const parts = spec.split(';').map((s) => s.trim());
    const proto = parts[0]?.toUpperCase() ?? '';
    const param = (name: string) => parts.find((p) => p.toLowerCase().startsWith(`${name}=`))?.split('=')[1];
    if (parts.some((p) => p.toLowerCase() === 'multicast')) return reply(461, 'Unsupported Transport');
    const timeout = this.deps.sessionTimeoutSec;

    if (proto === 'RTP/AVP/TCP') {
      const [a, b] = (param('interleaved') ?? '0-1').split('-').map(Number);
      const rtp = Number.isInteger(a) && a! >= 0 && a! < 255 ? a! : 0;
      const rtcp = Number.isInteger(b) && b! >= 0 && b! < 256 ? b! : rtp + 1;
      const s = this.#add(new Session(this, conn, stream, { kind: 'tcp', rtp, rtcp }, replay));
      return reply(200, 'OK', {
        Session: `${s.id};timeout=${timeout}`,
        Transport: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};ssrc=${s.ssrc.toString(16).toUpperCase().padStart(8, '0')};mode="play"`,
      });
    }
    if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP') {
      const [a, b] = (param('client_port') ?? '').split('-').map(Number);
      const clientHost = conn.socket.remoteAddress ?? '';
      if (!a || !Number.isInteger(a) || a > 65535 || !isLoopbackV4(clientHost)) {
        return reply(461, 'Unsupported Transport');
      }
      const rtcpPort = b && Number.isInteger(b) && b <= 65535 ? b : a + 1;
      void this.#udpSetup(conn, stream, clientHost.replace(/^::ffff:/, ''), a, rtcpPort, replay).then(
        (s) => {
          const sp = s.transport.kind === 'udp' ? s.transport : undefined;
          const serverPorts = sp ? `${sp.rtpSock.address().port}-${sp.rtcpSock.address().port}` : '';
          reply(200, 'OK', {
            Session: `${s.id};timeout=${timeout}`,
            Transport: `RTP/AVP;unicast;client_port=${a}-${rtcpPort};server_port=${serverPorts};ssrc=${s.ssrc.toString(16).toUpperCase().padStart(8, '0')};mode="play"`,
          });
        },
        () => reply(500, 'Internal Server Error'),
      );
      return;
    }
    return reply(461, 'Unsupported Transport');
  }

  async #udpSetup(
    conn: Connection,
    stream: SimStreamName,
    clientHost: string,
    rtpPort: number,
    rtcpPort: number,
    replay: boolean,
  ) {
    const bind = () =>
      new Promise<UdpSocket>((resolve, reject) => {
        const s = createSocket('udp4');
        s.on('error', () => undefined);
        s.once('error', reject);
        s.bind({ address: this.camera.host, port: 0 }, () => resolve(s));
      });
    const rtpSock = await bind();
    const rtcpSock = await bind();
    rtcpSock.on('message', () => {
      for (const s of conn.sessions) s.lastActivity = Date.now();
    });
    return this.#add(
      new Session(this, conn, stream, { kind: 'udp', clientHost, rtpPort, rtcpPort, rtpSock, rtcpSock }, replay),
    );
  }

  #add(s: Session): Session {
    this.#sessions.set(s.id, s);
    s.conn.sessions.add(s);
    this.deps.counters.rtspSessions++;
    return s;
  }
}
