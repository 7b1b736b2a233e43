/**
 * A typed view of node-media-server 4.x (CommonJS, no type declarations):
 * only the members rtmp-server.ts uses. Several are internals (the shared
 * context, the logger singleton, a session's socket and RTMP parser), so the
 * major version is checked when the package loads.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The NodeMediaServer constructor's config (src/core/context.js `NmsConfig`); every section is optional. */
export interface NmsConfig {
  /** Listen address of every listener it opens itself. */
  bind?: string;
  /** Its own RTMP listener; left unset here (a falsy port opens none): rtmp-server.ts owns the socket. */
  rtmp?: { port?: number };
  /** HTTP-FLV/WS-FLV and HTTPS listeners: none without a port. */
  http?: { port?: number };
  https?: { port?: number; key?: string; cert?: string };
  /** The bundled web console, mounted on its HTTP app. */
  webadmin?: { enable?: boolean };
}

/** The RTMP chunk parser of one connection (src/protocol/rtmp.js). */
export interface NmsRtmpParser {
  /** Message stream id of the publish/play command. */
  streamId: number;
  /** Receives every parsed audio/video/data message; the session forwards it to the stream's subscribers. */
  onPacketCallback: (packet: unknown) => void;
  /** Chunk streams seen so far, each with a payload buffer sized to its largest message. */
  inPackets: Map<number, unknown>;
  /** The message being parsed; `header.length` comes from the peer (up to 16 MiB). */
  parserPacket: { header: { length: number } };
  /** Sizes the payload buffer of `parserPacket` to `header.length` (called once per message). */
  packetAlloc(): void;
  sendStatusMessage(streamId: number, level: 'status' | 'error', code: string, description: string): void;
}

/** One connection (src/session/base_session.js, rtmp_session.js). */
export interface NmsSession {
  id: string;
  /** "address:port" of the peer. */
  ip: string;
  protocol: string;
  /** Set by the session once its broadcast accepted it as the publisher. */
  isPublisher: boolean;
  streamApp: string;
  streamName: string;
  /** "/<app>/<name>", the query stripped. */
  streamPath: string;
  /** The query after "?" in the stream name (node:querystring: repeated keys become arrays). */
  streamQuery: Record<string, string | string[] | undefined>;
  inBytes: number;
  createTime: number;
  /** FLV codec id from the publisher's metadata: 7 H.264, 12 H.265. */
  videoCodec: number;
  videoWidth: number;
  videoHeight: number;
  /** Present on RTMP sessions. */
  socket?: Socket;
  rtmp?: NmsRtmpParser;
  /** The stream's fan-out (src/server/broadcast_server.js), set once the session named a stream. */
  broadcast?: NmsBroadcast;
}

/** One stream's fan-out from its publisher to its players. */
export interface NmsBroadcast {
  /** Also kept through the resume window after the publisher left. */
  publisher: NmsSession | null;
  /** Ends the publish now: emits donePublish, drops the cached headers and frames, frees the publisher slot. */
  _finishPublish(): void;
}

/** Emitted with the session: prePublish and postPublish both fire before its duplicate-publisher check. */
export type NmsEvent = 'prePublish' | 'postPublish' | 'donePublish' | 'prePlay' | 'postPlay' | 'donePlay';

export interface NodeMediaServer {
  rtmpServer: {
    /** Turns an accepted TCP connection into an RTMP session (what its own listener would call). */
    handleRequest(socket: Socket): void;
  };
  on(event: NmsEvent, fn: (session: NmsSession) => void): void;
  /** Closes its listeners and destroys every connection handed to it; flushes its store when it was opened. */
  stop(): Promise<void>;
}

/** Module-level state shared by every instance in the process (src/core/context.js). */
export interface NmsContext {
  eventEmitter: EventEmitter;
  sessions: Map<string, NmsSession>;
  /** Stream path → broadcast; a broadcast keeps a departed publisher for a 30 s resume window. */
  broadcasts: Map<string, unknown>;
}

/** The logger singleton (src/core/logger.js); it writes to console.log. */
export interface NmsLogger {
  level: string;
  log(message: string, level?: string): void;
}

export interface NmsModule {
  NodeMediaServer: new (config: NmsConfig) => NodeMediaServer;
  context: NmsContext;
  logger: NmsLogger;
  version: string;
}

const require = createRequire(import.meta.url);
let loaded: NmsModule | null = null;

/** Loads the package once; throws when it is not the 4.x this view was written against. */
export function loadNodeMediaServer(): NmsModule {
  if (loaded) return loaded;
  const version = (require('node-media-server/package.json') as { version: string }).version;
  if (!/^4\./.test(version)) throw new Error(`node-media-server ${version} found; the RTMP ingest is written for 4.x`);
  loaded = {
    NodeMediaServer: require('node-media-server') as NmsModule['NodeMediaServer'],
    context: require('node-media-server/src/core/context.js') as NmsContext,
    logger: require('node-media-server/src/core/logger.js') as NmsLogger,
    version,
  };
  return loaded;
}
