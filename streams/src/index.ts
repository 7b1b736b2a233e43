/**
 * The media plane: ffmpeg argument building, per-stream supervision and the on-demand HLS relay.
 * It must never import server code; the server passes in what it decided (which camera, which URL, who may watch).
 */
export {
  ALLOWED_SCHEMES,
  MAX_URL_LENGTH,
  PLAYLIST_NAME,
  SEGMENT_PATTERN,
  buildLiveOutputArgs,
  buildRelayArgs,
  buildSnapshotArgs,
  hasUserinfo,
  needsTranscode,
  validateSourceUrl,
  type AudioCodec,
  type HlsOutputSpec,
  type RelayInput,
  type RtspRequestHeaders,
  type SourceScheme,
  type UrlCheck,
  type VideoCodec,
} from './args.ts';
export { BoxSplitter, Fmp4Assembler, codecOfInit, describeMoof, type Fmp4Event, type Mp4Box } from './fmp4.ts';
export {
  DEFAULT_MAX_QUEUE_BYTES,
  createLiveFeed,
  type LiveFeed,
  type LiveFeedStats,
  type LiveFeedWriter,
  type LiveFragment,
  type LiveSink,
  type LiveSubscriberStats,
  type LiveSubscription,
} from './live-feed.ts';
export { resolveFfmpeg, isExecutableFile, type FfmpegResolution, type ResolveFfmpegInput } from './resolve-ffmpeg.ts';
export {
  createProcessRunner,
  createProcessTable,
  parseProcStat,
  signalGroup,
  type ChildHandle,
  type ExitInfo,
  type ProcessRunner,
  type ProcessTable,
  type SpawnOptions,
} from './process.ts';
export { systemTimerClock, type TimerClock, type TimerHandle } from './clock.ts';
export {
  DEFAULT_BACKOFF_MS,
  createSupervisor,
  silentLogger,
  type MediaLogger,
  type OutputHealth,
  type StreamState,
  type StreamStateEvent,
  type Supervisor,
  type SupervisorOptions,
  type SupervisorPhase,
  type SupervisorStatus,
} from './supervisor.ts';
export {
  LineSplitter,
  ProgressParser,
  RingBuffer,
  progressSample,
  redactUrls,
  type ProgressSample,
} from './output-text.ts';
export {
  hlsOutputProbe,
  listSegments,
  parsePlaylist,
  playlistBitrate,
  readPlaylist,
  tsStreamTypes,
  tsVideoCodec,
  type MediaPlaylist,
  type PlaylistSegment,
} from './hls.ts';
export {
  RelayError,
  createHlsRelay,
  hlsRootDir,
  needsProxy,
  parseRunId,
  runIdOf,
  streamDirName,
  type HlsRelay,
  type HlsRelayOptions,
  type OrphanCleanup,
  type RelayErrorCode,
  type RelaySession,
  type RelayStateEvent,
  type RelayStatus,
} from './relay.ts';
export {
  createSourceProxy,
  describeNetError,
  loopbackPeerUid,
  type ProxiedSource,
  type RtspTransport,
  type RtspTransportMode,
  type SourceCredentials,
  type SourceEndpoint,
  type SourceProxy,
  type SourceProxyOptions,
} from './source-proxy.ts';
export { createFakeClock, createFakeRunner, type FakeChild, type FakeClock, type FakeRunner } from './fakes.ts';
export * from './diagnosis/index.ts';
export * from './recorder/index.ts';
