/**
 * Many-camera ONVIF simulator in one Node process. Each camera binds its own loopback address and
 * serves ONVIF SOAP (device, media, PTZ, events), a snapshot, RTSP with real H.264, and unicast
 * WS-Discovery. See README.md beside this file.
 */
import { createHash } from 'node:crypto';
import { ClipStore, clipFileName, placeholderParams, type ClipParams, type RunProcess } from './clips.ts';
import { DiscoveryResponder, MulticastDiscovery, multicastSandbox } from './discovery.ts';
import { EventBroker } from './events.ts';
import { OnvifHttpServer, type OnvifCamera } from './onvif-http.ts';
import { DEFAULT_PRESETS, PtzState } from './ptz.ts';
import { REPLAY_PATH, SearchSessions, SimRecording } from './recordings.ts';
import { RtspServer, streamPath, type RtspCamera } from './rtsp.ts';
import { endpointUuid, isLoopbackV4, resolveStreams } from './specs.ts';
import { StreamTicker } from './ticker.ts';
import {
  newCounters,
  type SimCameraInfo,
  type SimCameraSpec,
  type SimCounters,
  type SimEventKind,
  type SimFaults,
  type SimStreamName,
  type SimStreamProfile,
} from './types.ts';
import { NonceCache } from './wsse.ts';

export type {
  SimCameraInfo,
  SimCameraSpec,
  SimEventKind,
  SimFaults,
  SimStreamName,
  SimStreamProfile,
  SimCounters,
} from './types.ts';
export { defaultCameraSpecs, simPasswordFor, loopbackHosts, isLoopbackV4 } from './specs.ts';
export { usernameTokenHeader, passwordDigest } from './wsse.ts';
export { probeXml, parseProbe } from './discovery.ts';
export { measureResources, resourceSnapshot, type ResourceSample } from './measure.ts';
export { streamForPath } from './rtsp.ts';
export { spawnProcess, type RunProcess } from './clips.ts';
export { CLOCK_SEI_UUID, readClockBand, readClockSei } from './wallclock.ts';
export { DEFAULT_GAPS, RECORDING_TOKEN, SimRecording, type SimRecordingSpec } from './recordings.ts';
export { PICTURE_FAULTS, isPictureFault, pictureFaultFilter, type SimPictureFault } from './picture-faults.ts';

/**
 * 'per-camera': each camera streams its own clip (code, model, hue), encoded once on first PLAY or by
 * prewarm; until it is ready the session streams the shared placeholder of its geometry.
 * 'shared': every camera streams (and snapshots) the shared per-geometry clip; no per-camera encodes at
 * all, for benchmarks with thousands of cameras.
 */
export type SimClipMode = 'per-camera' | 'shared';

export interface SimulatorOptions {
  cameras: SimCameraSpec[];
  /** ONVIF HTTP port on every camera address (default 8000). 0: an ephemeral port per camera. */
  onvifPort?: number;
  /** RTSP port on every camera address (default 8554). 0: an ephemeral port per camera. */
  rtspPort?: number;
  /** WS-Discovery UDP port on every camera address (default 3702). */
  discoveryPort?: number;
  /** Answer unicast WS-Discovery probes (default true). */
  discovery?: boolean;
  /** Where encoded clips and snapshots are cached (e.g. data/sim-clips). */
  clipDir: string;
  ffmpegPath?: string;
  fontFile?: string;
  /** GOP length in seconds, 1–8 (default 1); a camera's own `keyframeIntervalSec` overrides it. */
  keyframeIntervalSec?: number;
  /** Length of each camera's looping clip (default 4 s). */
  clipSeconds?: number;
  /** Overrides every camera's stream geometry, e.g. { main: { width: 320, height: 180 } } in tests. */
  streamOverrides?: { main?: Partial<SimStreamProfile>; sub?: Partial<SimStreamProfile> };
  /** Join WS-Discovery multicast on this loopback address. Refused outside a test's own network namespace. */
  multicastInterface?: string;
  /** Cameras raise motion (and, rarely, tamper) on their own, about once per `meanIntervalSec` each. */
  randomEvents?: boolean | { meanIntervalSec?: number };
  /** Accepted distance between a WS-Security Created time and the device clock (default 120 s). */
  authWindowSec?: number;
  /** RTSP credentials: 'optional' (default) accepts none, rejects wrong ones; 'required' always challenges. */
  rtspAuth?: 'optional' | 'required';
  snapshotAuth?: 'optional' | 'required';
  /** RTSP session timeout announced and enforced for UDP sessions (default 60 s). */
  sessionTimeoutSec?: number;
  maxRtspSessionsPerCamera?: number;
  /** ffmpeg processes at once, of every kind (default 2). */
  maxConcurrentEncodes?: number;
  /** Default 'per-camera'. */
  clipMode?: SimClipMode;
  /**
   * After start, encode the per-camera clips not on disk yet in the background (sub streams first), under
   * `nice -n 10`, `prewarm.maxConcurrentEncodes` (default 1) at a time and only while no placeholder or
   * on-demand encode waits (never above the overall `maxConcurrentEncodes`); written to disk, loaded on
   * PLAY. `true` means both streams. Ignored in shared clip mode. Stops with `stop()`.
   */
  prewarm?: boolean | { stream?: 'sub' | 'main' | 'both'; maxConcurrentEncodes?: number };
  /** Process seam for ffmpeg (tests may fake it). */
  runProcess?: RunProcess;
  log?: (msg: string) => void;
}

export interface SimulatorStats extends SimCounters {
  cameras: number;
  online: number;
  ffmpegRunning: number;
  ffmpegQueued: number;
  /** Background encodes (prewarm, or on-demand ones whose sessions all ended) running now. */
  prewarmRunning: number;
  /** Background encodes waiting; 0 once prewarm is done. */
  prewarmQueued: number;
  clipsInMemory: number;
  /** Shared placeholder clips in memory (one per stream geometry in use). */
  placeholderClips: number;
  /** ffmpeg runs that completed: placeholder clips, camera clips, snapshots. */
  encodes: number;
}

/** A camera profile's live timeline as tests and benchmarks see it (the simulator's own process only). */
export interface SimTimelineView {
  readonly fps: number;
  readonly gopFrames: number;
  /** The frame due at `perfNowMs` (performance.now() of this process). */
  frameAt(perfNowMs: number): number;
  /** Capture time of frame `n`, ms since the epoch: the time stamped into it. */
  captureMs(n: number): number;
  /** Whether frame `n` is a keyframe; undefined while the clip is not loaded (nobody watching). */
  isKeyframe(n: number): boolean | undefined;
}

export interface Simulator {
  readonly cameras: readonly SimCameraInfo[];
  /** The live timeline of one profile of one camera. */
  timeline(code: string, stream: SimStreamName): SimTimelineView;
  /** Replaces the camera's faults; resolves once sockets are closed (offline) or listening again. */
  setFaults(code: string, faults: SimFaults): Promise<void>;
  getFaults(code: string): SimFaults;
  /** Profile G: what the camera has recorded up to now, [start, end) on its device clock (empty without). */
  recordedRanges(code: string): Array<[number, number]>;
  /** Sets an event state; without `state`, a pulse: true now, false 5 s later. */
  emitEvent(code: string, kind: SimEventKind, state?: boolean): void;
  /**
   * Encodes (in the background queue, `maxConcurrentEncodes` at a time) the clips the cameras show NOW —
   * e.g. after picture faults were switched on — and resolves once they are on disk, so a test measures
   * cameras rather than the simulator's encoder.
   */
  prepareClips(codes: readonly string[], stream: SimStreamName, maxConcurrentEncodes?: number): Promise<void>;
  stats(): SimulatorStats;
  /** Closes every socket and kills any ffmpeg it spawned. */
  stop(): Promise<void>;
}

const hueOf = (code: string) => createHash('sha1').update(code).digest().readUInt16BE(0) % 360;

class SimCamera implements OnvifCamera, RtspCamera {
  readonly spec: SimCameraSpec;
  readonly streams: { main: SimStreamProfile; sub: SimStreamProfile };
  readonly ptz: PtzState | undefined;
  readonly events = new EventBroker();
  readonly nonces = new NonceCache();
  readonly searches = new SearchSessions();
  /** Profile G: what the camera holds in its own storage (none with `recording: false`). */
  readonly #recording: SimRecording | undefined;
  #faults: SimFaults;
  #info: SimCameraInfo | undefined;
  readonly kfSec: number;
  readonly idrOnConnect: boolean;
  readonly #clipSeconds: number;
  readonly #shared: boolean;
  http!: OnvifHttpServer;
  rtsp!: RtspServer;
  discovery: DiscoveryResponder | undefined;
  online = false;
  /** Serialises offline/online transitions. */
  transition: Promise<void> = Promise.resolve();

  constructor(spec: SimCameraSpec, opts: SimulatorOptions) {
    this.spec = spec;
    this.#faults = { ...spec.faults };
    this.streams = resolveStreams(spec, opts.streamOverrides);
    this.ptz = spec.ptz ? new PtzState(DEFAULT_PRESETS) : undefined;
    this.kfSec = spec.keyframeIntervalSec ?? opts.keyframeIntervalSec ?? 1;
    this.idrOnConnect = spec.idrOnConnect ?? false;
    this.#clipSeconds = opts.clipSeconds ?? 4;
    this.#shared = opts.clipMode === 'shared';
    this.#recording = spec.recording === false ? undefined : new SimRecording(spec.recording ?? {}, this.deviceNowMs());
  }

  recording(): SimRecording | undefined {
    return this.#recording;
  }

  syncPoint(stream: SimStreamName): void {
    this.rtsp?.syncPoint(stream);
  }

  get code() {
    return this.spec.code;
  }
  get host() {
    return this.spec.host;
  }
  get username() {
    return this.spec.username;
  }
  get password() {
    return this.spec.password;
  }
  get model() {
    return this.spec.model;
  }
  get serial() {
    return this.spec.serial;
  }

  info(): SimCameraInfo {
    if (!this.#info) throw new Error('camera not started');
    return this.#info;
  }

  setInfo(onvifPort: number, rtspPort: number, discoveryPort: number): void {
    const h = this.spec.host;
    const base = `http://${h}:${onvifPort}/onvif`;
    this.#info = Object.freeze({
      ...this.spec,
      faults: undefined,
      onvifPort,
      rtspPort,
      discoveryPort,
      deviceServiceUrl: `${base}/device_service`,
      mediaServiceUrl: `${base}/media_service`,
      eventsServiceUrl: `${base}/events_service`,
      ...(this.spec.ptz ? { ptzServiceUrl: `${base}/ptz_service` } : {}),
      ...(this.#recording
        ? {
            recordingServiceUrl: `${base}/recording_service`,
            searchServiceUrl: `${base}/search_service`,
            replayServiceUrl: `${base}/replay_service`,
            replayUri: `rtsp://${h}:${rtspPort}${REPLAY_PATH}`,
          }
        : {}),
      mainStreamUri: `rtsp://${h}:${rtspPort}${streamPath('main')}`,
      subStreamUri: `rtsp://${h}:${rtspPort}${streamPath('sub')}`,
      snapshotUri: `${base}/snapshot.jpg?channel=1`,
      endpointReference: endpointUuid(this.spec.code),
      resolvedStreams: this.streams,
      keyframeIntervalSec: this.kfSec,
      idrOnConnect: this.idrOnConnect,
    });
  }

  faults(): SimFaults {
    return this.#faults;
  }

  setFaultsValue(f: SimFaults): void {
    this.#faults = { ...f };
  }

  deviceNowMs(): number {
    return Date.now() + this.spec.clockOffsetSec * 1000;
  }

  profile(stream: SimStreamName): SimStreamProfile {
    return this.streams[stream];
  }

  placeholderParams(stream: SimStreamName): ClipParams {
    const profile = this.streams[stream];
    const p = placeholderParams(profile, Math.max(1, Math.round(profile.fps * this.kfSec)), this.#clipSeconds);
    // In shared clip mode a picture fault still shows: the geometry's placeholder with that fault.
    return this.#shared && this.#faults.picture ? { ...p, picture: this.#faults.picture } : p;
  }

  clipParams(stream: SimStreamName): ClipParams {
    if (this.#shared) return this.placeholderParams(stream);
    const profile = this.streams[stream];
    return {
      code: this.spec.code,
      caption: `${this.spec.manufacturer} ${this.spec.model}`,
      stream,
      profile,
      gopFrames: Math.max(1, Math.round(profile.fps * this.kfSec)),
      seconds: this.#clipSeconds,
      hue: hueOf(this.spec.code),
      ...(this.#faults.picture ? { picture: this.#faults.picture } : {}),
    };
  }
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const seen = new Set<string>();
  for (const c of opts.cameras) {
    if (!isLoopbackV4(c.host)) throw new Error(`camera ${c.code}: host ${c.host} is not a loopback address`);
    if (seen.has(c.host)) throw new Error(`camera ${c.code}: host ${c.host} used twice`);
    seen.add(c.host);
  }
  if (new Set(opts.cameras.map((c) => c.code)).size !== opts.cameras.length)
    throw new Error('camera codes must be unique');
  for (const [what, kf] of [
    ['keyframeIntervalSec', opts.keyframeIntervalSec],
    ...opts.cameras.map((c) => [`camera ${c.code}: keyframeIntervalSec`, c.keyframeIntervalSec] as const),
  ] as const) {
    if (kf !== undefined && !(kf >= 1 && kf <= 8)) throw new Error(`${what} must be 1–8 s, not ${String(kf)}`);
  }
  if (opts.clipMode !== undefined && opts.clipMode !== 'per-camera' && opts.clipMode !== 'shared')
    throw new Error(`clipMode must be 'per-camera' or 'shared', not ${String(opts.clipMode)}`);
  if (opts.multicastInterface !== undefined) {
    const sandbox = multicastSandbox();
    if (!sandbox.ok) throw new Error(`multicast WS-Discovery refused: ${sandbox.why}`);
  }

  const log = opts.log ?? ((m: string) => console.error(`camera-sim: ${m}`));
  const counters = newCounters();
  const ticker = new StreamTicker();
  const clips = new ClipStore({
    dir: opts.clipDir,
    ffmpegPath: opts.ffmpegPath,
    fontFile: opts.fontFile,
    maxConcurrent: opts.maxConcurrentEncodes ?? 2,
    run: opts.runProcess,
  });
  const onvifPort = opts.onvifPort ?? 8000;
  const rtspPort = opts.rtspPort ?? 8554;
  const discoveryPort = opts.discoveryPort ?? 3702;
  const discoveryOn = opts.discovery ?? true;
  const multicast = opts.multicastInterface !== undefined;
  const onvifDeps = {
    clips,
    counters,
    authWindowSec: opts.authWindowSec ?? 120,
    snapshotAuth: opts.snapshotAuth ?? 'optional',
    log,
  } as const;
  const rtspDeps = {
    clips,
    ticker,
    counters,
    auth: opts.rtspAuth ?? 'optional',
    sessionTimeoutSec: opts.sessionTimeoutSec ?? 60,
    maxSessions: opts.maxRtspSessionsPerCamera ?? 20,
    log,
  } as const;

  const cams = opts.cameras.map((spec) => new SimCamera(spec, opts));
  const byCode = new Map(cams.map((c) => [c.code, c]));

  // One placeholder clip per stream geometry in use, encoded (or read from disk) while sockets bind, so
  // that a PLAY right after start gets a picture at once.
  const geometries = new Map<string, ClipParams>();
  for (const c of cams) {
    for (const s of ['main', 'sub'] as const) {
      const p = c.placeholderParams(s);
      geometries.set(clipFileName(p), p);
    }
  }
  const placeholdersReady = Promise.all(
    [...geometries.values()].map((p) =>
      clips.placeholder(p).then(
        () => undefined,
        (e: unknown) => {
          if (!stopped) log(`placeholder clip ${p.profile.width}x${p.profile.height} failed: ${String(e)}`);
        },
      ),
    ),
  );

  async function bringUp(c: SimCamera): Promise<void> {
    if (c.online) return;
    const info = (() => {
      try {
        return c.info();
      } catch {
        return undefined;
      }
    })();
    c.http ??= new OnvifHttpServer(c, onvifPort, onvifDeps);
    c.rtsp ??= new RtspServer(c, rtspPort, rtspDeps);
    const hp = await c.http.listen(c.host);
    const rp = await c.rtsp.listen();
    let dp = info?.discoveryPort ?? discoveryPort;
    if (discoveryOn) {
      c.discovery ??= new DiscoveryResponder(() => c.info(), counters);
      dp = await c.discovery.listen(c.host, dp, multicast);
    }
    if (!info) c.setInfo(hp, rp, dp);
    c.online = true;
  }

  async function takeDown(c: SimCamera): Promise<void> {
    c.online = false;
    c.events.closeAll();
    await Promise.all([c.http?.close(), c.rtsp?.close(), c.discovery?.close()]);
  }

  const timers = new Set<NodeJS.Timeout>();
  let mcast: MulticastDiscovery | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    timers.clear();
    ticker.stop();
    const encodersGone = clips.stop();
    await Promise.all(cams.map((c) => c.transition.catch(() => undefined)));
    await Promise.all(cams.map((c) => takeDown(c)));
    await mcast?.close();
    await encodersGone;
  };

  try {
    // Bind in modest batches: 500 cameras × 3 sockets start in well under a second this way.
    for (let i = 0; i < cams.length; i += 64) {
      await Promise.all(cams.slice(i, i + 64).map((c) => bringUp(c)));
    }
    for (const c of cams) if (c.faults().offline) await takeDown(c);
    if (multicast && discoveryOn) {
      mcast = new MulticastDiscovery();
      await mcast.listen(opts.multicastInterface!, discoveryPort, () =>
        cams.filter((c) => c.online && c.discovery).map((c) => c.discovery!),
      );
    }
    await placeholdersReady;
  } catch (e) {
    await stop();
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`camera simulator failed to start: ${msg}`, { cause: e });
  }

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of cams) {
      if (!c.online) continue;
      c.rtsp.sweep(now);
      c.events.sweep(now);
    }
  }, 5000);
  sweep.unref();
  timers.add(sweep);

  const pulse = (c: SimCamera, kind: SimEventKind, ms: number) => {
    c.events.emit(kind, true, Date.now());
    const t = setTimeout(() => {
      timers.delete(t);
      c.events.emit(kind, false, Date.now());
    }, ms);
    t.unref();
    timers.add(t);
  };

  if (opts.randomEvents) {
    const mean = (typeof opts.randomEvents === 'object' && opts.randomEvents.meanIntervalSec) || 120;
    const stepSec = 2;
    const r = setInterval(() => {
      for (const c of cams) {
        if (!c.online || c.events.subs.size === 0) continue;
        const x = Math.random();
        if (x < stepSec / mean && !c.events.state.motion) pulse(c, 'motion', 3000 + Math.random() * 7000);
        else if (x > 1 - stepSec / (mean * 20) && !c.events.state.tamper) pulse(c, 'tamper', 10_000);
      }
    }, stepSec * 1000);
    r.unref();
    timers.add(r);
  }

  if (opts.prewarm && opts.clipMode !== 'shared') {
    const which = (typeof opts.prewarm === 'object' && opts.prewarm.stream) || 'both';
    const max = (typeof opts.prewarm === 'object' && opts.prewarm.maxConcurrentEncodes) || 1;
    const order: SimStreamName[] = which === 'both' ? ['sub', 'main'] : [which];
    const list = order.flatMap((s) => cams.map((c) => c.clipParams(s)));
    const t0 = Date.now();
    void clips.prewarm(list, { maxConcurrent: max }).then((r) => {
      if (stopped) return;
      log(
        `prewarm (${which}) done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${r.encoded} encoded, ` +
          `${r.cached} cached${r.failed ? `, ${r.failed} failed` : ''}`,
      );
    });
  }

  const get = (code: string) => {
    const c = byCode.get(code);
    if (!c) throw new Error(`no simulated camera with code ${code}`);
    return c;
  };

  return {
    cameras: Object.freeze(cams.map((c) => c.info())),
    timeline(code, stream) {
      const t = get(code).rtsp.timeline(stream);
      return {
        fps: t.fps,
        gopFrames: t.gopFrames,
        frameAt: (ms) => t.frameAt(ms),
        captureMs: (n) => t.captureMs(n),
        isKeyframe: (n) => (t.ready ? t.isKeyframe(n) : undefined),
      };
    },
    setFaults(code, faults) {
      const c = get(code);
      const wasOffline = !!c.faults().offline;
      const picture = c.faults().picture;
      c.setFaultsValue(faults);
      // A new picture fault is a new clip: live sessions take it at their next keyframe.
      if (faults.picture !== picture) c.rtsp.reloadClips();
      const goOffline = !!faults.offline;
      if (goOffline === wasOffline || stopped) return c.transition;
      // Closing starts synchronously: from this call on the camera accepts nothing new.
      c.transition = c.transition
        .catch(() => undefined)
        .then(() => (goOffline ? takeDown(c) : stopped ? undefined : bringUp(c)));
      return c.transition;
    },
    getFaults: (code) => ({ ...get(code).faults() }),
    recordedRanges(code) {
      const c = get(code);
      return c.recording()?.ranges(c.deviceNowMs()) ?? [];
    },
    async prepareClips(codes, stream, maxConcurrentEncodes = 2) {
      await clips.prewarm(
        codes.map((code) => get(code).clipParams(stream)),
        { maxConcurrent: maxConcurrentEncodes },
      );
    },
    emitEvent(code, kind, state) {
      const c = get(code);
      if (!c.online) return;
      if (state === undefined) pulse(c, kind, 5000);
      else c.events.emit(kind, state, Date.now());
    },
    stats() {
      let online = 0;
      for (const c of cams) if (c.online) online++;
      return { ...counters, ...clips.stats(), cameras: cams.length, online };
    },
    stop,
  };
}
