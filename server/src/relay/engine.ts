import type { StreamState } from '../api/contract.ts';

/** What the server needs of the media plane (streams/), so tests and a remote worker can stand in. */
export interface RelayEngineStatus {
  state: StreamState;
  reason: string | null;
  restarts: number;
  fps: number | null;
  bitrateKbps: number | null;
  /** Directory holding index.m3u8 and its segments. */
  dir: string;
}

export interface RelaySourceInput {
  url: string;
  codec: 'h264' | 'h265' | 'unknown';
}

export interface RelayEngine {
  /** Starts the stream for `key` unless running; every viewer shares it. */
  acquire(key: string, input: RelaySourceInput): Promise<void>;
  /** Asks a non-RTSP source which video codec it carries. */
  probeCodec(url: string): Promise<'h264' | 'h265' | 'unknown'>;
  /** A viewer fetched the playlist or a segment: keeps the stream from idling out. */
  touch(key: string): void;
  /** Resolves true once the playlist lists a segment, false on timeout or error. */
  waitForPlaylist(key: string, timeoutMs: number): Promise<boolean>;
  status(key: string): RelayEngineStatus | undefined;
  onState(fn: (key: string, s: RelayEngineStatus) => void): () => void;
  /** One JPEG from the newest segment of a running stream. */
  snapshot(key: string): Promise<Buffer>;
  /** Stops the stream of `key` now, whoever watches (its camera point was deleted). */
  stop(key: string): Promise<void>;
  stopAll(): Promise<void>;
}
