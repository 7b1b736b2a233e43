/**
 * The live socket's wire protocol (issue 15): one plain WebSocket per page at {@link LIVE_PATH} multiplexes every
 * tile's low-latency video (fragmented MP4 for MediaSource). Shared by server and client; constants and types
 * only, like contract.ts.
 *
 * Client → server, text JSON ({@link LiveClientMessage}): `auth` (only when the upgrade carried no session
 * cookie: a kiosk window's bearer token), `subscribe` a tile to a stream ticket, `unsubscribe`.
 * Server → client, text JSON ({@link LiveServerMessage}) for control, and binary frames for media:
 * `[kind u8][tile u16 big-endian][payload]` — kind {@link LIVE_FRAME}: the init segment (after an `init` text
 * message naming the codec for `addSourceBuffer`), or one fragment (`moof`+`mdat`), keyframe or not.
 */
import type { SessionEndReason } from './contract.ts';
import type { ServerMessageCode } from './messages.ts';

export const LIVE_PATH = '/api/v1/live';

export const LIVE_FRAME = { init: 0, fragment: 1, keyframe: 2 } as const;
export type LiveFrameKind = (typeof LIVE_FRAME)[keyof typeof LIVE_FRAME];
export const LIVE_HEADER_BYTES = 3;
/** Tiles one socket may hold at once (a 64-tile wall, its next tour group, warm tiles). */
export const LIVE_MAX_TILES = 160;
export const LIVE_MAX_TILE_ID = 65_535;

/** WebSocket close codes of the live socket. */
export const LIVE_CLOSE = {
  /** No session, or the session ended (logout, expiry, revoked): sign in again. */
  session: 4401,
  /** The page's origin is not this server's. */
  origin: 4403,
  /** A message that is not the protocol. */
  protocol: 4400,
} as const;

export type LiveClientMessage =
  | { op: 'auth'; token: string }
  | { op: 'subscribe'; tile: number; ticket: string }
  | { op: 'unsubscribe'; tile: number };

/** An error as every server message: a code the console translates, the English text, parameters. */
export interface LiveError {
  /** The error's code (as `error.code` of the HTTP API: `ticket_not_yours`, `not_found`, `live_unavailable` …). */
  code: string;
  message: string;
  messageCode?: ServerMessageCode;
  params?: Record<string, string | number>;
}

export type LiveServerMessage =
  | { type: 'ready'; maxTiles: number }
  | { type: 'init'; tile: number; codec: string | null }
  | { type: 'gap'; tile: number; dropped: number }
  | { type: 'ended'; tile: number; reason: string }
  | { type: 'error'; tile: number | null; error: LiveError }
  | { type: 'session:ended'; reason: SessionEndReason };
