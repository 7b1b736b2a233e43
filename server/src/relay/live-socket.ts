/**
 * The live socket (issue 15): ONE plain WebSocket per page (`ws`, at LIVE_PATH) that multiplexes every tile's
 * low-latency video — per tile the codec, the init segment, the cached GOP from its keyframe, then live
 * fragments, each binary frame prefixed with the tile id (api/live.ts).
 *
 * Why plain `ws` and not a Socket.IO namespace: media is binary and many small frames (a fragment per frame per
 * tile); Socket.IO sends each binary message as a placeholder packet plus an attachment frame, may fall back
 * to long-polling (which would defeat the latency), and hides the bytes queued per socket, which back-pressure
 * needs (`bufferedAmount`, checked before every fragment: live-feed.ts). Nothing here needs rooms or the
 * adapter: a tile is a subscription of this socket only.
 *
 * Security is the HLS path's, by the same code: a subscribe carries the stream ticket of `POST
 * /cameras/:id/stream`, checked by `relay.resolveLive` exactly as a playlist request (the ticket's session must
 * be this socket's session, the user may still watch, the camera is the same one and in scope); every few
 * seconds each subscription is checked again (`touchLive`), which also keeps the viewing audit open. The
 * socket's session comes from the upgrade's cookie (same origin only: a page of another origin is refused, as
 * its cookie would otherwise ride along), or, for a kiosk window that holds a bearer token, from a first `auth`
 * message. The socket closes (4401) when its session ends: logout, expiry, revocation (`session.ended`), and
 * at the latest at the next check.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import type { SessionEndReason } from '../api/contract.ts';
import {
  LIVE_CLOSE,
  LIVE_FRAME,
  LIVE_HEADER_BYTES,
  LIVE_MAX_TILES,
  LIVE_MAX_TILE_ID,
  LIVE_PATH,
  type LiveError,
  type LiveServerMessage,
} from '../api/live.ts';
import { codeOfMessage } from '../api/messages.ts';
import { can, type AuthContext, type AuthService } from '../auth/index.ts';
import { recheckPass } from '../auth/recheck.ts';
import type { EventBus } from '../events.ts';
import { HttpError } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import type { LiveSubscription } from '../../../streams/src/index.ts';
import type { LiveGrant, RelayService } from './service.ts';

export interface LiveSocketOptions {
  auth: AuthService;
  relay: RelayService;
  bus: EventBus;
  log: Logger;
  /** Bytes a socket may hold for its browser before its tiles drop to their next keyframe (default 8 MiB). */
  maxQueueBytes?: number;
  /** How often sessions and subscriptions are checked again (default 5 s). */
  recheckMs?: number;
  /** How long an unauthenticated socket may wait before its `auth` message (default 5 s). */
  authTimeoutMs?: number;
}

export interface LiveSocketStats {
  sockets: Array<{
    userId: number | null;
    tiles: number;
    bufferedAmount: number;
    /** Largest bytes held for this socket just before a fragment was sent. */
    maxBuffered: number;
    droppedFragments: number;
    sentFragments: number;
  }>;
}

export interface LiveSocketServer {
  stats(): LiveSocketStats;
  close(): Promise<void>;
}

const tile = z.number().int().min(1).max(LIVE_MAX_TILE_ID);
const clientMessage = z.discriminatedUnion('op', [
  z.object({ op: z.literal('auth'), token: z.string().min(1).max(200) }).strict(),
  z.object({ op: z.literal('subscribe'), tile, ticket: z.string().min(1).max(400) }).strict(),
  z.object({ op: z.literal('unsubscribe'), tile }).strict(),
]);

interface Tile {
  grant: LiveGrant;
  /** Unset only while subscribing (the feed may answer, or end, synchronously). */
  sub: LiveSubscription | undefined;
}

interface Client {
  ws: WebSocket;
  token: string | undefined;
  session: AuthContext | undefined;
  tiles: Map<number, Tile>;
  authTimer: NodeJS.Timeout | undefined;
  /** This socket's messages, handled one after another in the order they came (each may wait on the store). */
  queue: Promise<void>;
}

/** An error as the console reads every server message: its code, the English text, the message's code. */
function liveError(code: string, message: string): LiveError {
  const coded = codeOfMessage(message);
  return {
    code,
    message,
    ...(coded ? { messageCode: coded.code } : {}),
    ...(coded?.params ? { params: coded.params } : {}),
  };
}

const errorOf = (err: unknown): LiveError =>
  err instanceof HttpError ? liveError(err.code, err.message) : liveError('internal', 'internal error');

/** Same origin: the page's Origin names this server's Host (a cookie would ride along from any other site). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (a browser always sends Origin on a WebSocket)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function attachLiveSocket(http: HttpServer, opts: LiveSocketOptions): LiveSocketServer {
  const { auth, relay, bus, log } = opts;
  const maxQueueBytes = opts.maxQueueBytes ?? 8 * 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const clients = new Set<Client>();

  const send = (c: Client, msg: LiveServerMessage) => {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  };

  const frame = (kind: number, tileId: number, payload: Buffer) => {
    const head = Buffer.allocUnsafe(LIVE_HEADER_BYTES);
    head.writeUInt8(kind, 0);
    head.writeUInt16BE(tileId, 1);
    return Buffer.concat([head, payload]);
  };

  function unsubscribe(c: Client, tileId: number): void {
    const t = c.tiles.get(tileId);
    if (!t) return;
    t.sub?.close();
    c.tiles.delete(tileId);
  }

  function endClient(c: Client, code: number, reason: string): void {
    if (c.authTimer) clearTimeout(c.authTimer);
    for (const id of [...c.tiles.keys()]) unsubscribe(c, id);
    clients.delete(c);
    if (c.ws.readyState === WebSocket.OPEN || c.ws.readyState === WebSocket.CONNECTING) c.ws.close(code, reason);
  }

  async function subscribe(c: Client, tileId: number, ticket: string): Promise<void> {
    const session = c.session!;
    if (!c.tiles.has(tileId) && c.tiles.size >= LIVE_MAX_TILES) {
      send(c, {
        type: 'error',
        tile: tileId,
        error: liveError('live_too_many_tiles', `at most ${LIVE_MAX_TILES} tiles on one live socket`),
      });
      return;
    }
    let grant: LiveGrant;
    try {
      grant = await relay.resolveLive(session, ticket);
    } catch (err) {
      send(c, { type: 'error', tile: tileId, error: errorOf(err) });
      return;
    }
    // The socket ended (or its session did) while the ticket was checked: nothing to subscribe for.
    if (!clients.has(c) || c.session !== session) return;
    // A tile subscribed again (a new camera in the same tile) drops its old stream first.
    unsubscribe(c, tileId);
    const ws = c.ws;
    const t: Tile = { grant, sub: undefined };
    c.tiles.set(tileId, t);
    const sub = grant.feed.subscribe(
      {
        init(data, codec) {
          if (ws.readyState !== WebSocket.OPEN) return;
          send(c, { type: 'init', tile: tileId, codec: codec ?? null });
          ws.send(frame(LIVE_FRAME.init, tileId, data));
        },
        fragment(f) {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(frame(f.keyframe ? LIVE_FRAME.keyframe : LIVE_FRAME.fragment, tileId, f.data));
        },
        // Everything this socket holds for its browser, all tiles together: one browser, one cap.
        buffered: () => ws.bufferedAmount,
        gap: (dropped) => send(c, { type: 'gap', tile: tileId, dropped }),
        end(reason) {
          if (c.tiles.get(tileId) !== t) return;
          c.tiles.delete(tileId);
          send(c, { type: 'ended', tile: tileId, reason });
        },
      },
      { maxQueueBytes },
    );
    t.sub = sub;
    // The stream had already ended: the feed said so at once and the tile is gone again.
    if (c.tiles.get(tileId) !== t) sub.close();
  }

  async function onMessage(c: Client, raw: RawData, isBinary: boolean): Promise<void> {
    let parsed: z.infer<typeof clientMessage>;
    try {
      if (isBinary) throw new Error('binary');
      const r = clientMessage.safeParse(JSON.parse(String(raw)));
      if (!r.success)
        throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'op'}: ${i.message}`).join('; '));
      parsed = r.data;
    } catch (err) {
      const detail = err instanceof SyntaxError ? 'malformed JSON' : (err as Error).message;
      send(c, {
        type: 'error',
        tile: null,
        error: liveError('live_bad_message', `not a live socket message: ${detail}`),
      });
      return;
    }
    if (parsed.op === 'auth') {
      if (c.session) return; // already bound: the session cannot be changed on a socket
      const ctx = await auth.resolveToken(parsed.token);
      if (!clients.has(c)) return;
      if (!ctx || !can(ctx.user.role, 'camera.read')) {
        send(c, {
          type: 'error',
          tile: null,
          error: liveError('live_session_required', 'the live socket needs a signed-in session'),
        });
        endClient(c, LIVE_CLOSE.session, 'session_required');
        return;
      }
      bind(c, parsed.token, ctx);
      return;
    }
    if (!c.session) {
      send(c, {
        type: 'error',
        tile: null,
        error: liveError('live_session_required', 'the live socket needs a signed-in session'),
      });
      endClient(c, LIVE_CLOSE.session, 'session_required');
      return;
    }
    if (parsed.op === 'subscribe') await subscribe(c, parsed.tile, parsed.ticket);
    else unsubscribe(c, parsed.tile);
  }

  function bind(c: Client, token: string, ctx: AuthContext): void {
    if (c.authTimer) clearTimeout(c.authTimer);
    c.authTimer = undefined;
    c.token = token;
    c.session = ctx;
    send(c, { type: 'ready', maxTiles: LIVE_MAX_TILES });
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(req, socket, head).catch((err: unknown) => {
      log.warn('live socket upgrade failed', { err: String(err) });
      socket.destroy();
    });
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== LIVE_PATH) return; // Socket.IO's and anyone else's
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!sameOrigin(req)) return refuse(403, 'Forbidden');
    const token = auth.tokenFrom({ headers: req.headers });
    // The socket may fail while its session is looked up: nobody else listens for its errors yet.
    const early = () => socket.destroy();
    socket.on('error', early);
    let ctx: AuthContext | undefined;
    try {
      ctx = token ? await auth.resolveToken(token) : undefined;
    } finally {
      socket.off('error', early);
    }
    if (socket.destroyed) return;
    if (ctx && !can(ctx.user.role, 'camera.read')) return refuse(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = {
        ws,
        token: undefined,
        session: undefined,
        tiles: new Map(),
        authTimer: undefined,
        queue: Promise.resolve(),
      };
      clients.add(c);
      ws.on('message', (raw, isBinary) => {
        c.queue = c.queue
          .then(() => onMessage(c, raw, isBinary))
          .catch((err: unknown) => {
            log.warn('live socket message failed', { err: String(err) });
            send(c, { type: 'error', tile: null, error: errorOf(err) });
          });
      });
      ws.on('close', () => endClient(c, 1000, 'closed'));
      ws.on('error', () => endClient(c, 1011, 'error'));
      if (ctx && token) bind(c, token, ctx);
      else {
        c.authTimer = setTimeout(() => {
          send(c, {
            type: 'error',
            tile: null,
            error: liveError('live_session_required', 'the live socket needs a signed-in session'),
          });
          endClient(c, LIVE_CLOSE.session, 'session_required');
        }, opts.authTimeoutMs ?? 5_000);
      }
    });
  }
  http.on('upgrade', onUpgrade);

  const endSession = (c: Client, reason: SessionEndReason) => {
    send(c, { type: 'session:ended', reason });
    endClient(c, LIVE_CLOSE.session, reason);
  };

  const offSession = bus.on('session.ended', ({ tokenHashes, userIds, reason }) => {
    for (const c of [...clients]) {
      if (!c.session) continue;
      if (tokenHashes.includes(c.session.tokenHash) || userIds.includes(c.session.user.id)) endSession(c, reason);
    }
  });

  // Sessions can vanish without an event (expired, swept) and a point can leave the jurisdiction: check again.
  async function recheckClient(c: Client, token: string, session: AuthContext): Promise<void> {
    const ctx = await auth.resolveToken(token);
    if (!clients.has(c)) return;
    if (!ctx || ctx.tokenHash !== session.tokenHash) {
      endSession(c, 'expired');
      return;
    }
    if (ctx.user.role !== session.user.role || ctx.orgUnit.id !== session.orgUnit.id) {
      endSession(c, 'changed');
      return;
    }
    for (const [id, t] of [...c.tiles]) {
      const allowed = await relay.touchLive(ctx, t.grant);
      if (allowed || !clients.has(c)) continue;
      // Subscribed anew (or gone) while it was checked: that subscription is not the one refused.
      if (c.tiles.get(id) !== t) continue;
      unsubscribe(c, id);
      send(c, { type: 'ended', tile: id, reason: 'not_allowed' });
    }
  }

  // One pass at a time, one socket after another (auth/recheck.ts): a pass still running skips the next.
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    void recheckPass(
      [...clients],
      (c) => (c.session && c.token && clients.has(c) ? recheckClient(c, c.token, c.session) : Promise.resolve()),
      { log, what: 'live socket session' },
    ).finally(() => (rechecking = false));
  }, opts.recheckMs ?? 5_000);
  recheck.unref();

  return {
    stats: () => ({
      sockets: [...clients].map((c) => {
        const subs = [...c.tiles.values()].flatMap((t) => (t.sub ? [t.sub.stats] : []));
        return {
          userId: c.session?.user.id ?? null,
          tiles: c.tiles.size,
          bufferedAmount: c.ws.bufferedAmount,
          maxBuffered: Math.max(0, ...subs.map((s) => s.maxBuffered)),
          droppedFragments: subs.reduce((n, s) => n + s.droppedFragments, 0),
          sentFragments: subs.reduce((n, s) => n + s.sentFragments, 0),
        };
      }),
    }),
    async close() {
      http.off('upgrade', onUpgrade);
      clearInterval(recheck);
      offSession();
      for (const c of [...clients]) endClient(c, 1001, 'server closing');
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      log.debug('live socket closed');
    },
  };
}
