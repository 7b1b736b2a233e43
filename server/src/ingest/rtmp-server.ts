/**
 * The in-process RTMP server: node-media-server parses RTMP and fans a
 * publisher out to its players; this file owns the TCP listener and decides,
 * through the caller's hooks, who may publish and who may play.
 *
 * A library: it imports no application code. What it adds to node-media-server
 * and why:
 * - Its own listener. node-media-server opens none for port 0 (tests need a
 *   free port) and calls process.exit(1) when its listen fails; here a failed
 *   listen is a rejected promise.
 * - Rejection. node-media-server's events carry no verdict: a listener rejects
 *   by closing the session. It has already answered NetStream.Publish.Start
 *   (or Play.Start) by then, so the peer gets an error status and the socket
 *   closes; the session's parser stops forwarding media at once, so messages
 *   pipelined behind the command never reach the stream's players.
 * - One publisher per stream, decided here and before the media server's own
 *   check (which runs after its prePublish/postPublish events); a microtask
 *   later the session's `isPublisher` says whether the media server agreed.
 * - Guards for a port that faces the network: a parse error in
 *   node-media-server throws inside the socket's data handler and would end
 *   the whole platform, so the handler is wrapped and the one connection
 *   dropped; a peer's message length is capped (node-media-server allocates
 *   what the header claims, up to 16 MiB per chunk stream); a connection must
 *   publish or play within a deadline, sends little before that, and is
 *   dropped when idle; an address refused too often is turned away for a while.
 *
 * node-media-server keeps its state in module globals, so one server may run
 * per process at a time.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { loadNodeMediaServer, type NmsSession, type NodeMediaServer } from './node-media-server.ts';

/** What the hooks learn about a connection asking to publish or play. */
export interface RtmpSessionInfo {
  id: string;
  app: string;
  name: string;
  /** The query of the stream name, e.g. `{ key: '…' }` for `cam7?key=…`; repeated keys are arrays. */
  query: Record<string, string | string[] | undefined>;
  /** The peer's address without port (IPv4-mapped IPv6 unwrapped). */
  address: string;
  /** The local address the peer reached. */
  localAddress: string;
}

export interface PublishStats {
  seconds: number;
  bytes: number;
  /** FLV codec id the publisher announced (7 H.264, 12 H.265), 0 when unknown. */
  videoCodec: number;
  width: number;
  height: number;
}

export interface IngestLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface RtmpIngestOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  log: IngestLog;
  /** null accepts; a string is why not. Asked before the one-publisher-per-stream rule. */
  authorizePublish(s: RtmpSessionInfo): string | null;
  authorizePlay(s: RtmpSessionInfo): string | null;
  onPublishStart(s: RtmpSessionInfo): void;
  onPublishEnd(s: RtmpSessionInfo, stats: PublishStats): void;
  onDenied(kind: 'publish' | 'play', s: RtmpSessionInfo, reason: string): void;
}

export interface RtmpIngest {
  host: string;
  port: number;
  /** Whether `/<app>/<name>` has an accepted publisher connected now. */
  publishing(app: string, name: string): boolean;
  /** Disconnects the publisher of `/<app>/<name>`; false when there was none. */
  kick(app: string, name: string): boolean;
  close(): Promise<void>;
}

/** A connection must publish or play this soon after connecting. */
const AUTH_DEADLINE_MS = 10_000;
/** Silence for this long drops a connection (a body camera that lost its uplink leaves no FIN behind). */
const IDLE_TIMEOUT_MS = 20_000;
/** Handshake and connect/createStream/publish take a few KiB. */
const MAX_PREAUTH_BYTES = 64 * 1024;
const MAX_PREAUTH_MESSAGE_BYTES = 16 * 1024;
/** One video frame; a 4K H.265 key frame is well under this. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Publishers use a handful of chunk streams. */
const MAX_CHUNK_STREAMS = 16;
const MAX_CONNECTIONS = 1024;
const MAX_DENIALS_PER_MINUTE = 20;

type Role = 'pending' | 'publisher' | 'player' | 'denied';

interface Conn {
  socket: Socket;
  session: NmsSession;
  address: string;
  role: Role;
  /** The media server took it as the stream's publisher; its end is reported. */
  started: boolean;
  closed: boolean;
  path: string;
  received: number;
  deadline: NodeJS.Timeout;
}

let running = false;

const plainAddress = (a: string | undefined) => (a ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
export const isLoopback = (a: string) => /^127\.\d+\.\d+\.\d+$/.test(a) || a === '::1';

export async function startRtmpIngest(opts: RtmpIngestOptions): Promise<RtmpIngest> {
  if (running) throw new Error('an RTMP ingest server is already running in this process');
  running = true;
  try {
    return await start(opts);
  } catch (err) {
    running = false;
    throw err;
  }
}

async function start(opts: RtmpIngestOptions): Promise<RtmpIngest> {
  const { log } = opts;
  const nmsModule = loadNodeMediaServer();
  const { context } = nmsModule;
  // Its logger writes to stdout at debug level; route it into ours (its errors are a peer's doing: warn).
  nmsModule.logger.log = (message: string, level = 'info') => {
    if (level === 'error' || level === 'warn') log.warn(`rtmp: ${message}`);
    else if (level === 'info') log.debug(`rtmp: ${message}`);
  };
  // No rtmp/http/https port: it opens no listener of its own; run() (store, record, relay, web API) is never called.
  const nms: NodeMediaServer = new nmsModule.NodeMediaServer({ bind: opts.host, webadmin: { enable: false } });

  const conns = new Map<string, Conn>();
  const publishers = new Map<string, Conn>();
  const denials = new Map<string, number[]>();
  const blockedLogged = new Map<string, number>();

  const infoOf = (c: Conn): RtmpSessionInfo => ({
    id: c.session.id,
    app: c.session.streamApp,
    name: c.session.streamName,
    query: { ...c.session.streamQuery },
    address: c.address,
    localAddress: plainAddress(c.socket.localAddress),
  });

  const recentDenials = (address: string) => {
    const cutoff = Date.now() - 60_000;
    const list = (denials.get(address) ?? []).filter((t) => t > cutoff);
    if (list.length) denials.set(address, list);
    else denials.delete(address);
    return list;
  };

  const drop = (c: Conn, reason: string) => {
    if (c.closed) return;
    log.debug('rtmp connection dropped', { address: c.address, path: c.path || null, reason });
    c.socket.destroy();
  };

  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.warn(`rtmp ingest: ${what} failed`, { err: String(err) });
    }
  };

  function deny(c: Conn, kind: 'publish' | 'play', reason: string) {
    c.role = 'denied';
    clearTimeout(c.deadline);
    const rtmp = c.session.rtmp;
    if (rtmp) {
      rtmp.onPacketCallback = () => undefined;
      // The peer was already told Publish.Start/Play.Start; an error status makes ffmpeg and most devices say why they stop.
      safely('refusal status', () =>
        rtmp.sendStatusMessage(
          rtmp.streamId,
          'error',
          kind === 'publish' ? 'NetStream.Publish.Unauthorized' : 'NetStream.Play.Failed',
          `${kind} refused`,
        ),
      );
    }
    // Half-close so the status gets there; what the peer still sends is read and thrown away (see onConnection).
    c.socket.end();
    setTimeout(() => c.socket.destroy(), 1000).unref();
    if (kind === 'publish') {
      const s = c.session;
      // The media server goes on to seat a refused publisher when the stream has none; unseat it once it has
      // (same call, so by the next microtask), or the stream stays taken until the socket closes.
      queueMicrotask(() => {
        if (s.isPublisher && s.broadcast?.publisher === s) {
          s.broadcast._finishPublish();
          s.isPublisher = false;
        }
      });
    }
    if (!isLoopback(c.address)) {
      // Bounded: a scan from many addresses must not grow these maps without end.
      if (denials.size > 10_000) {
        for (const a of [...denials.keys()]) recentDenials(a);
        blockedLogged.clear();
      }
      const list = recentDenials(c.address);
      list.push(Date.now());
      denials.set(c.address, list);
    }
    safely('denial hook', () => opts.onDenied(kind, infoOf(c), reason));
  }

  const onPrePublish = (s: NmsSession) => {
    const c = conns.get(s.id);
    if (!c || c.closed) return;
    if (c.role !== 'pending') return deny(c, 'publish', 'a second publish or play on one connection');
    c.path = s.streamPath;
    let reason: string | null;
    try {
      reason = opts.authorizePublish(infoOf(c));
    } catch (err) {
      log.warn('rtmp publish check failed', { err: String(err) });
      reason = 'internal error';
    }
    if (reason === null && publishers.has(c.path)) reason = 'the stream already has a publisher';
    if (reason !== null) return deny(c, 'publish', reason);
    c.role = 'publisher';
    clearTimeout(c.deadline);
    publishers.set(c.path, c);
    // The media server's own checks run after this event, in the same call: by the next microtask it has decided.
    queueMicrotask(() => {
      if (c.closed) return;
      if (!s.isPublisher) {
        if (publishers.get(c.path) === c) publishers.delete(c.path);
        return deny(c, 'publish', 'refused by the media server (a departing publisher still holds the stream)');
      }
      c.started = true;
      safely('publish start hook', () => opts.onPublishStart(infoOf(c)));
    });
  };

  const onPrePlay = (s: NmsSession) => {
    const c = conns.get(s.id);
    if (!c || c.closed) return;
    if (c.role !== 'pending') return deny(c, 'play', 'a second publish or play on one connection');
    c.path = s.streamPath;
    let reason: string | null;
    try {
      reason = opts.authorizePlay(infoOf(c));
    } catch (err) {
      log.warn('rtmp play check failed', { err: String(err) });
      reason = 'internal error';
    }
    if (reason !== null) return deny(c, 'play', reason);
    c.role = 'player';
    clearTimeout(c.deadline);
  };

  function onConnection(socket: Socket) {
    const address = plainAddress(socket.remoteAddress);
    if (!isLoopback(address) && recentDenials(address).length >= MAX_DENIALS_PER_MINUTE) {
      const now = Date.now();
      if (now - (blockedLogged.get(address) ?? 0) > 60_000) {
        blockedLogged.set(address, now);
        log.warn('rtmp: address refused too often; turned away for a minute', { address });
      }
      socket.destroy();
      return;
    }
    socket.on('error', () => undefined);
    nms.rtmpServer.handleRequest(socket);
    let session: NmsSession | undefined;
    for (const s of context.sessions.values()) if (s.socket === socket) session = s;
    const rtmp = session?.rtmp;
    if (!session || !rtmp) {
      socket.destroy();
      return;
    }
    const c: Conn = {
      socket,
      session,
      address,
      role: 'pending',
      started: false,
      closed: false,
      path: '',
      received: 0,
      deadline: setTimeout(() => {
        if (c.role === 'pending') drop(c, `neither publish nor play within ${AUTH_DEADLINE_MS / 1000} s`);
      }, AUTH_DEADLINE_MS),
    };
    c.deadline.unref();
    conns.set(session.id, c);

    // Every byte goes through node-media-server's parser, which throws on malformed input: contain it here.
    const handlers = socket.listeners('data') as ((chunk: Buffer) => void)[];
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      if (c.role === 'denied') return;
      if (c.role === 'pending') {
        c.received += chunk.length;
        if (c.received > MAX_PREAUTH_BYTES) return drop(c, 'too much data before publish or play');
      }
      try {
        for (const h of handlers) h.call(socket, chunk);
      } catch (err) {
        log.warn('rtmp: malformed data; connection dropped', { address, err: String(err).slice(0, 200) });
        socket.destroy();
      }
    });
    const alloc = rtmp.packetAlloc.bind(rtmp);
    rtmp.packetAlloc = () => {
      const length = rtmp.parserPacket.header.length;
      const cap = c.role === 'publisher' ? MAX_MESSAGE_BYTES : MAX_PREAUTH_MESSAGE_BYTES;
      if (length > cap) throw new Error(`message of ${length} bytes (limit ${cap})`);
      if (rtmp.inPackets.size > MAX_CHUNK_STREAMS) throw new Error(`more than ${MAX_CHUNK_STREAMS} chunk streams`);
      alloc();
    };
    socket.setTimeout(IDLE_TIMEOUT_MS, () => drop(c, `idle for ${IDLE_TIMEOUT_MS / 1000} s`));
    socket.once('close', () => {
      c.closed = true;
      clearTimeout(c.deadline);
      conns.delete(session.id);
      if (publishers.get(c.path) === c) publishers.delete(c.path);
      if (!c.started) return;
      const s = c.session;
      safely('publish end hook', () =>
        opts.onPublishEnd(infoOf(c), {
          seconds: Math.round((Date.now() - s.createTime) / 1000),
          bytes: s.inBytes,
          videoCodec: Number(s.videoCodec) || 0,
          width: Number(s.videoWidth) || 0,
          height: Number(s.videoHeight) || 0,
        }),
      );
    });
  }

  const server: Server = createServer({ noDelay: true }, onConnection);
  server.maxConnections = MAX_CONNECTIONS;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await nms.stop();
    throw err;
  }
  server.on('error', (err) => log.warn('rtmp listener error', { err: String(err) }));
  context.eventEmitter.on('prePublish', onPrePublish);
  context.eventEmitter.on('prePlay', onPrePlay);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  log.info('rtmp ingest listening', { host: opts.host, port, nodeMediaServer: nmsModule.version });

  let closing: Promise<void> | null = null;
  return {
    host: opts.host,
    port,
    publishing: (app, name) => publishers.get(`/${app}/${name}`)?.started === true,
    kick(app, name) {
      const c = publishers.get(`/${app}/${name}`);
      if (!c) return false;
      drop(c, 'disconnected by the platform');
      return true;
    },
    close() {
      closing ??= (async () => {
        context.eventEmitter.off('prePublish', onPrePublish);
        context.eventEmitter.off('prePlay', onPrePlay);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of conns.values()) c.socket.destroy();
        await nms.stop();
        // Departed publishers wait out a resume window in module state; a later server in this process starts clean.
        context.broadcasts.clear();
        await closed;
        running = false;
      })();
      return closing;
    },
  };
}
