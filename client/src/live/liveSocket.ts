/**
 * The page's ONE live socket (issue 15): every low-latency tile of the page shares it (16 HLS tiles used all
 * six connections a browser gives an origin). Opened on the first subscribe, closed when the last tile leaves;
 * frames are routed by tile id. A kiosk window's bearer token goes in a first `auth` message (a browser cannot
 * put headers on a WebSocket); everywhere else the session cookie rides on the upgrade.
 *
 * When the socket cannot open or drops, every tile on it is told (`down`) and falls back to HLS by itself;
 * for a while after a failure new tiles go straight to HLS instead of each waiting for it to fail again.
 */
import {
  LIVE_FRAME,
  LIVE_HEADER_BYTES,
  LIVE_MAX_TILE_ID,
  LIVE_PATH,
  type LiveClientMessage,
  type LiveServerMessage,
} from '@api/live.ts';
import { windowSession } from '../api.ts';

export interface LiveTileHandlers {
  /** The stream's codec for addSourceBuffer (null: the server could not tell). */
  codec(codec: string | null): void;
  init(data: Uint8Array): void;
  fragment(data: Uint8Array, keyframe: boolean): void;
  /** A server error for this tile (a coded LiveError), or the end of its stream. */
  error(code: string): void;
  /** Fragments were dropped for back-pressure; the next one is a keyframe. */
  gap?(dropped: number): void;
  /** The socket is gone (could not open, dropped, or the session ended). */
  down(reason: string): void;
}

export interface LiveSocketClient {
  subscribe(ticket: string, handlers: LiveTileHandlers): () => void;
}

/** After the socket failed, new tiles play HLS at once for this long. */
const DOWN_FOR_MS = 30_000;
/** Opening longer than this counts as a failure (a proxy that swallows the upgrade). */
const OPEN_TIMEOUT_MS = 4_000;

let current: PageSocket | null = null;
let downUntil = 0;

/** Whether the live socket is worth trying now (not failed recently, WebSocket and MSE present). */
export function liveSocketUsable(): boolean {
  return typeof WebSocket !== 'undefined' && Date.now() >= downUntil;
}

class PageSocket implements LiveSocketClient {
  readonly #ws: WebSocket;
  readonly #tiles = new Map<number, LiveTileHandlers>();
  /** Messages waiting for `ready`. */
  #queue: LiveClientMessage[] = [];
  #ready = false;
  #closed = false;
  #nextTile = 1;
  readonly #openTimer: number;

  constructor() {
    const url = new URL(LIVE_PATH, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.#ws = new WebSocket(url);
    this.#ws.binaryType = 'arraybuffer';
    this.#openTimer = window.setTimeout(() => this.#down('open timeout'), OPEN_TIMEOUT_MS);
    this.#ws.addEventListener('open', () => {
      const bearer = windowSession();
      if (bearer) this.#ws.send(JSON.stringify({ op: 'auth', token: bearer } satisfies LiveClientMessage));
    });
    this.#ws.addEventListener('message', (e: MessageEvent<ArrayBuffer | string>) => this.#onMessage(e.data));
    this.#ws.addEventListener('close', (e) => this.#down(`closed ${e.code}`));
    this.#ws.addEventListener('error', () => this.#down('error'));
  }

  subscribe(ticket: string, handlers: LiveTileHandlers): () => void {
    if (this.#closed) {
      queueMicrotask(() => handlers.down('closed'));
      return () => undefined;
    }
    let tile = this.#nextTile;
    while (this.#tiles.has(tile)) tile = tile >= LIVE_MAX_TILE_ID ? 1 : tile + 1;
    this.#nextTile = tile >= LIVE_MAX_TILE_ID ? 1 : tile + 1;
    this.#tiles.set(tile, handlers);
    this.#send({ op: 'subscribe', tile, ticket });
    return () => {
      if (this.#tiles.get(tile) !== handlers) return;
      this.#tiles.delete(tile);
      this.#send({ op: 'unsubscribe', tile });
      if (this.#tiles.size === 0) this.#close();
    };
  }

  #send(m: LiveClientMessage): void {
    if (this.#closed) return;
    if (!this.#ready) this.#queue.push(m);
    else this.#ws.send(JSON.stringify(m));
  }

  #onMessage(data: ArrayBuffer | string): void {
    if (typeof data !== 'string') {
      if (data.byteLength < LIVE_HEADER_BYTES) return;
      const view = new DataView(data);
      const kind = view.getUint8(0);
      const tile = this.#tiles.get(view.getUint16(1));
      if (!tile) return;
      const payload = new Uint8Array(data, LIVE_HEADER_BYTES);
      if (kind === LIVE_FRAME.init) tile.init(payload);
      else tile.fragment(payload, kind === LIVE_FRAME.keyframe);
      return;
    }
    let m: LiveServerMessage;
    try {
      m = JSON.parse(data) as LiveServerMessage;
    } catch {
      return;
    }
    switch (m.type) {
      case 'ready':
        this.#ready = true;
        window.clearTimeout(this.#openTimer);
        for (const q of this.#queue) this.#ws.send(JSON.stringify(q));
        this.#queue = [];
        return;
      case 'init':
        this.#tiles.get(m.tile)?.codec(m.codec);
        return;
      case 'gap':
        this.#tiles.get(m.tile)?.gap?.(m.dropped);
        return;
      case 'ended':
        this.#tiles.get(m.tile)?.error(`ended:${m.reason}`);
        this.#tiles.delete(m.tile);
        return;
      case 'error':
        if (m.tile === null) return; // the socket itself: its close follows
        this.#tiles.get(m.tile)?.error(m.error.code);
        this.#tiles.delete(m.tile);
        return;
      case 'session:ended':
        this.#down('session ended');
        return;
    }
  }

  #down(reason: string): void {
    if (this.#closed) return;
    // A socket that never became ready, or dropped while tiles played: new tiles take HLS for a while.
    if (!this.#ready || this.#tiles.size > 0) downUntil = Date.now() + DOWN_FOR_MS;
    this.#close();
    const tiles = [...this.#tiles.values()];
    this.#tiles.clear();
    for (const t of tiles) t.down(reason);
  }

  #close(): void {
    this.#closed = true;
    window.clearTimeout(this.#openTimer);
    if (current === this) current = null;
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close();
  }
}

/** What a tile gets while the socket is down: told so at once, without a new socket. */
const DOWN: LiveSocketClient = {
  subscribe(_ticket, handlers) {
    queueMicrotask(() => handlers.down('socket down'));
    return () => undefined;
  },
};

/**
 * The page's live socket, opened on first use. Not again while it is down: a tile that chose the socket
 * before it failed and got its ticket after (16 tiles' tickets come back over ~1 s) would otherwise open a
 * new one, and the page tried a failing socket three times in 0.8 s.
 */
export function liveSocket(): LiveSocketClient {
  if (!current && !liveSocketUsable()) return DOWN;
  current ??= new PageSocket();
  return current;
}
