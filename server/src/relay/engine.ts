import type { StreamState } from '../api/contract.ts';
import type { LiveFeed } from '../../../streams/src/index.ts';

export type { LiveFeed };

/** What the server needs of the media plane (streams/), so tests and a remote worker can stand in. */
export interface RelayEngineStatus {
  state: StreamState;
  reason: string | null;
  restarts: number;
  fps: number | null;
  bitrateKbps: number | null;
  /** Waiting between attempts: milliseconds until the next one. */
  retryInMs: number | null;
  /** Directory holding index.m3u8 and its segments. */
  dir: string;
}

export type RtspTransportMode = 'auto' | 'tcp' | 'udp';

export interface RelaySourceInput {
  /** The registered address, without credentials: those never reach a command line (issue 12). */
  url: string;
  credentials: { username: string; password: string } | null;
  codec: 'h264' | 'h265' | 'unknown';
  /** RTSP towards the camera (the point's setting). */
  rtspTransport: RtspTransportMode;
  /** For 'auto': the transport that delivered media last time. */
  preferTransport?: 'tcp' | 'udp';
  /** RTSP headers the source proxy adds (ONVIF replay of a camera's recording, issue 14). */
  rtspHeaders?: { all?: ReadonlyArray<readonly [string, string]>; play?: ReadonlyArray<readonly [string, string]> };
  /** A replay from a moment: ffmpeg keeps the packets it probed, so the asked GOP is played, not the next one. */
  fromFirstPacket?: boolean;
}

export interface RelayEngine {
  /**
   * Starts the stream for `key` unless running; every viewer shares it. A running stream asked for with
   * another input (new address, password or transport) restarts at once, in place.
   */
  acquire(key: string, input: RelaySourceInput): Promise<void>;
  /** Asks a non-RTSP source which video codec it carries. */
  probeCodec(
    url: string,
    credentials?: { username: string; password: string } | null,
  ): Promise<'h264' | 'h265' | 'unknown'>;
  /** A stream waiting between attempts tries again now (a health check saw its camera). */
  retryNow(key: string): boolean;
  /** The RTSP transport that delivered media on a stream (for the point to remember). */
  onTransport(fn: (key: string, transport: 'tcp' | 'udp') => void): () => void;
  /** The camera answered PLAY for a stream (its start or a restart): when to ask it for a keyframe. */
  onSourcePlaying?(fn: (key: string) => void): () => void;
  /** A viewer fetched the playlist or a segment: keeps the stream from idling out. */
  touch(key: string): void;
  /** Resolves true once the playlist lists a segment, false on timeout or error. */
  waitForPlaylist(key: string, timeoutMs: number): Promise<boolean>;
  status(key: string): RelayEngineStatus | undefined;
  onState(fn: (key: string, s: RelayEngineStatus) => void): () => void;
  /**
   * The live fMP4 feed of a running stream (issue 15): init segment, cached GOP, fan-out with back-pressure.
   * Absent where the media plane writes none (the client then plays HLS).
   */
  live?(key: string): LiveFeed | undefined;
  /** One JPEG from the newest segment of a running stream. */
  snapshot(key: string): Promise<Buffer>;
  /** Stops the stream of `key` now, whoever watches (its camera point was deleted). */
  stop(key: string): Promise<void>;
  stopAll(): Promise<void>;
  /** Shutdown: nothing starts any more, everything stops (issue 12). */
  close(): Promise<void>;
}
