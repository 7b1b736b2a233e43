/** Shared shapes of the camera simulator. Protocol modules import these; nothing here imports application code. */
import type { SimPictureFault } from './picture-faults.ts';
import type { SimRecordingSpec } from './recordings.ts';

/** Faults one simulated camera can show; every one switchable at run time with `Simulator.setFaults`. */
export interface SimFaults {
  /** Nothing answers on the camera's address: its sockets are closed, connections are refused. */
  offline?: boolean;
  /** Authentication always fails, as if the password on the device were different. */
  wrongPassword?: boolean;
  /** RTSP DESCRIBE/SETUP/PLAY succeed but no RTP flows (or flow stops when set mid-stream). */
  stalledStream?: boolean;
  /** Every SOAP (and snapshot) reply is delayed by this many milliseconds. */
  slowRepliesMs?: number;
  /** SOAP replies are cut short: broken XML. */
  malformedXml?: boolean;
  /**
   * The picture is wrong while the stream works (issue 16: black, dark, frozen, covered, moved…): the
   * camera's clip is encoded with that fault; a change takes over live sessions at their next keyframe.
   */
  picture?: SimPictureFault;
}

/** One video stream the camera offers (ONVIF media profile). */
export interface SimStreamProfile {
  width: number;
  height: number;
  fps: number;
  /** Rate cap given to the encoder and reported in GetProfiles. */
  bitrateKbps: number;
}

export type SimStreamName = 'main' | 'sub';

export interface SimCameraSpec {
  /** 20-digit GB/T 28181 device code; burnt into the video and the snapshot. */
  code: string;
  /** The camera's own loopback address (127.0.0.0/8), e.g. 127.0.1.5. */
  host: string;
  manufacturer: string;
  model: string;
  serial: string;
  mac: string;
  firmware: string;
  username: string;
  password: string;
  /** Device clock = real clock + offset (seconds). */
  clockOffsetSec: number;
  ptz: boolean;
  faults?: SimFaults;
  /** Stream geometry; defaults: main 1920x1080@25, sub 640x360@15. */
  streams?: { main?: Partial<SimStreamProfile>; sub?: Partial<SimStreamProfile> };
  /** Keyframe interval (GOP) of both profiles, 1–8 s; default the simulator's `keyframeIntervalSec` (1 s). */
  keyframeIntervalSec?: number;
  /**
   * Send every new RTSP session an IDR at once (cameras that do so). Off by default: a session joins the
   * camera's running stream mid-GOP and gets nothing before the next keyframe, like most real cameras.
   */
  idrOnConnect?: boolean;
  /**
   * The address the camera believes it has, as behind NAT or port forwarding: GetStreamUri and GetSnapshotUri
   * name it instead of `host` (nothing is bound there). Issue 12: the platform must rebase such addresses.
   */
  advertisedHost?: string;
  /**
   * Recordings in the camera's own storage (ONVIF Profile G: search, recording and replay services, RTSP
   * replay). Default: the last 24 h with two gaps (recordings.ts); `false`: a camera without Profile G.
   */
  recording?: SimRecordingSpec | false;
}

/** A running simulated camera: its spec plus the addresses a client would use. */
export interface SimCameraInfo extends SimCameraSpec {
  onvifPort: number;
  rtspPort: number;
  discoveryPort: number;
  deviceServiceUrl: string;
  mediaServiceUrl: string;
  eventsServiceUrl: string;
  /** Present on PTZ models only. */
  ptzServiceUrl?: string;
  /** Profile G services and the replay URI; absent on cameras with `recording: false`. */
  recordingServiceUrl?: string;
  searchServiceUrl?: string;
  replayServiceUrl?: string;
  replayUri?: string;
  mainStreamUri: string;
  subStreamUri: string;
  snapshotUri: string;
  /** WS-Discovery endpoint reference, stable per camera code. */
  endpointReference: string;
  resolvedStreams: { main: SimStreamProfile; sub: SimStreamProfile };
  /** As configured or defaulted. */
  keyframeIntervalSec: number;
  idrOnConnect: boolean;
}

export type SimEventKind = 'motion' | 'tamper';

/** Running totals, shared by every protocol server of one simulator. */
export interface SimCounters {
  httpRequests: number;
  soapFaults: number;
  authFailures: number;
  /** RTSP connections accepted since start. */
  rtspConnections: number;
  /** RTSP sessions open now (after SETUP, before TEARDOWN/close). */
  rtspSessions: number;
  /** RTSP sessions sending (or waiting to send) RTP now. */
  rtspPlaying: number;
  rtpPackets: number;
  rtpBytes: number;
  droppedFrames: number;
  /** Sessions that moved from the shared placeholder clip to the camera's own clip mid-stream. */
  clipSwitches: number;
  discoveryProbes: number;
  discoveryMatches: number;
  eventSubscriptions: number;
  /** ONVIF SetSynchronizationPoint requests on media profiles (an IDR asked for). */
  syncPoints: number;
}

export const newCounters = (): SimCounters => ({
  httpRequests: 0,
  soapFaults: 0,
  authFailures: 0,
  rtspConnections: 0,
  syncPoints: 0,
  rtspSessions: 0,
  rtspPlaying: 0,
  rtpPackets: 0,
  rtpBytes: 0,
  droppedFrames: 0,
  clipSwitches: 0,
  discoveryProbes: 0,
  discoveryMatches: 0,
  eventSubscriptions: 0,
});
