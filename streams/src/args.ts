/**
 * ffmpeg argument lists, built by pure functions and tested as tables (go2rtc `ffmpeg_test.go`).
 * Nothing here spawns, reads the clock or touches the disk.
 */
import path from 'node:path';

export type VideoCodec = 'h264' | 'h265' | 'unknown';
export type AudioCodec = 'aac' | 'other' | 'none' | 'unknown';

/** Where a relay reads from: a camera's (or platform's) stream address and what it is known to carry. */
export interface RelayInput {
  /**
   * Checked with `validateSourceUrl`. What reaches ffmpeg's argv never carries `user:pass@` (issue 12):
   * `buildRelayArgs` refuses it; the relay puts RTSP and HTTP sources behind its loopback source proxy.
   */
  url: string;
  /** The source's credentials, kept out of every command line (the source proxy answers the challenge). */
  credentials?: { username: string; password: string } | null;
  codec: VideoCodec;
  audio: AudioCodec;
  /**
   * RTSP towards the camera: 'auto' (TCP, then UDP; the one that delivered is remembered), 'tcp' or 'udp'.
   * The relay's source proxy carries it out; ffmpeg itself then reads TCP from the proxy. Default 'auto'.
   */
  rtspTransport?: 'tcp' | 'udp' | 'auto';
  /** For 'auto': the transport that worked last time, tried first. */
  preferTransport?: 'tcp' | 'udp';
  /** Source frame rate when known (ONVIF GetVideoEncoderConfiguration); sets the GOP of a transcode. */
  fps?: number;
  /**
   * RTSP headers the source proxy sends the camera beside ffmpeg's own (issue 14, ONVIF replay: `Require:
   * onvif-replay` on every request, `Range: clock=…` and `Scale` on PLAY, where they replace ffmpeg's `npt`).
   */
  rtspHeaders?: RtspRequestHeaders;
  /**
   * Every packet from the first one matters (a replay asked to start at a moment): the probe keeps what it
   * read, where a live stream of unknown codec drops it (`-fflags nobuffer`) to reach the present sooner.
   * Dropping it here started a camera's replay a whole GOP after the asked moment.
   */
  fromFirstPacket?: boolean;
}

export interface RtspRequestHeaders {
  all?: ReadonlyArray<readonly [string, string]>;
  play?: ReadonlyArray<readonly [string, string]>;
}

export interface HlsOutputSpec {
  /**
   * ffmpeg before 4.4 (e.g. the static build shipped in an npm package, the fallback when the system has
   * none) lacks `-stats_period`; progress then comes at ffmpeg's default pace.
   */
  legacyFfmpeg?: boolean;
  /** Absolute directory the playlist and segments are written to. */
  dir: string;
  segmentSeconds: number;
  listSize: number;
  /** Re-encode video to H.264 even when the source is not H.265 (H.265 is always re-encoded). */
  transcode: boolean;
  /** Keep audio: AAC copied, anything else re-encoded to AAC. False: no audio at all (wall tiles are muted). */
  keepAudio: boolean;
  /** Cap of a re-encode (VBV maxrate; buffer twice that). Default: uncapped CRF 23. */
  maxBitrateKbps?: number;
  /**
   * First segment number (default 0). A restart continues after the last segment of the previous process so a
   * player's media sequence only moves forward; a discontinuity tag then marks the timestamp reset.
   */
  startNumber?: number;
  /**
   * Also write the low-latency live output (issue 15): fragmented MP4, one fragment per frame, to this file
   * descriptor of ffmpeg (the relay reads it from a pipe). See {@link buildLiveOutputArgs}.
   */
  liveFd?: number;
}

export const PLAYLIST_NAME = 'index.m3u8';
export const SEGMENT_PATTERN = 'seg_%05d.ts';
/** Matches the files `SEGMENT_PATTERN` produces (complete ones: temp_file writes `.tmp` first). */
export const SEGMENT_FILE = /^seg_(\d{5,})\.ts$/;

export const ALLOWED_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'http', 'https'] as const;
export type SourceScheme = (typeof ALLOWED_SCHEMES)[number];
export const MAX_URL_LENGTH = 2048;

/**
 * ffmpeg protocols each scheme may use, nothing more: an HTTP source that answers with an HLS playlist
 * listing `file:` or `concat:` entries must not make ffmpeg read local files.
 * Plain RTSP needs no TLS (the brief listed `tls` for it; left out on purpose, rtsps carries it).
 */
export const WHITELIST: Record<SourceScheme, string> = {
  rtsp: 'rtsp,rtp,tcp,udp',
  rtsps: 'rtsp,rtsps,rtp,tcp,udp,tls',
  rtmp: 'rtmp,tcp',
  http: 'http,https,tcp,tls',
  https: 'http,https,tcp,tls',
};

/** Socket I/O timeout: ffmpeg gives up on a silent source itself instead of hanging until the watchdog. */
const IO_TIMEOUT_US = '5000000';

export type UrlCheck = { ok: true; url: string; scheme: SourceScheme } | { ok: false; reason: string };

/**
 * Accepts only rtsp, rtsps, rtmp, http and https URLs with a host. The URL ends up as one argv element of
 * ffmpeg, so anything ffmpeg could read as an option, a second protocol or a local file is refused.
 * The scheme is lower-cased (ffmpeg matches protocol names case-sensitively); the rest is kept as given.
 */
export function validateSourceUrl(url: unknown): UrlCheck {
  if (typeof url !== 'string' || url.length === 0) return { ok: false, reason: 'empty' };
  if (url.length > MAX_URL_LENGTH) return { ok: false, reason: `longer than ${MAX_URL_LENGTH} characters` };
  if (url.startsWith('-')) return { ok: false, reason: 'starts with "-" (would be read as an ffmpeg option)' };
  if (/[\x00-\x1f\x7f]/.test(url)) return { ok: false, reason: 'contains control characters' };
  if (/\s/.test(url)) return { ok: false, reason: 'contains whitespace' };
  if (/[^\x21-\x7e]/.test(url)) return { ok: false, reason: 'contains non-ASCII characters (percent-encode them)' };
  if (url.includes('|')) return { ok: false, reason: 'contains "|" (ffmpeg pipe/concat syntax)' };
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (!m) return { ok: false, reason: 'no scheme (expected rtsp://, rtsps://, rtmp://, http:// or https://)' };
  const scheme = m[1]!.toLowerCase();
  if (!(ALLOWED_SCHEMES as readonly string[]).includes(scheme)) {
    return { ok: false, reason: `scheme "${scheme}:" is not allowed (only ${ALLOWED_SCHEMES.join(', ')})` };
  }
  const rest = url.slice(m[0].length);
  if (!rest.startsWith('//')) return { ok: false, reason: `"${scheme}:" must be followed by "//host"` };
  const normalized = scheme + ':' + rest;
  let parsed: URL;
  try {
    parsed = new URL(normalized);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (!parsed.hostname) return { ok: false, reason: 'no host' };
  return { ok: true, url: normalized, scheme: scheme as SourceScheme };
}

const checkedUrl = (url: string): { url: string; scheme: SourceScheme } => {
  const check = validateSourceUrl(url);
  if (!check.ok) throw new Error(`refusing source URL: ${check.reason}`);
  return check;
};

/** Whether a relay of this input re-encodes video (and so counts against the transcode limit). */
export const needsTranscode = (input: Pick<RelayInput, 'codec'>, output: Pick<HlsOutputSpec, 'transcode'>) =>
  output.transcode || input.codec === 'h265';

const num = (n: number) => String(Number(n.toFixed(3)));

/** Whether a URL carries `user:pass@` (anything before an '@' in its authority). */
export function hasUserinfo(url: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
  return !!m && m[1]!.includes('@');
}

export function inputArgs(input: RelayInput, legacy: boolean): string[] {
  const { url, scheme } = checkedUrl(input.url);
  // Any local user can read a process's command line (/proc/<pid>/cmdline): a password must never be there.
  if (hasUserinfo(url)) throw new Error('refusing source URL: it carries credentials, which would show in argv');
  const a = ['-protocol_whitelist', WHITELIST[scheme]];
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    // Before ffmpeg 5, RTSP's `-timeout` meant "listen for an incoming connection"; the socket timeout was `-stimeout`.
    // 'auto' is the source proxy's business; ffmpeg reading a camera directly gets TCP.
    const transport = input.rtspTransport === 'udp' ? 'udp' : 'tcp';
    a.push('-rtsp_transport', transport, legacy ? '-stimeout' : '-timeout', IO_TIMEOUT_US);
  } else {
    a.push('-rw_timeout', IO_TIMEOUT_US);
  }
  // Time to the first playlist entry (1 s GOP, measured against the simulator): with the stream's codec known
  // from the SDP (the server's DESCRIBE), a 0.1 s probe that KEEPS what it read lets the first 1 s segment close
  // at the second keyframe: ~1.16 s. `-fflags nobuffer` or a 0.5 s probe both cost a whole GOP (~2.15 s).
  // Unknown codecs over RTSP/RTMP keep half a second of probing; HTTP (MPEG-TS joined mid-stream) a second,
  // as its parameters only come with a keyframe (2 s cost another second on a 1080p H.265 source).
  const known = (scheme === 'rtsp' || scheme === 'rtsps') && input.codec !== 'unknown';
  if (known) a.push('-analyzeduration', '100000', '-probesize', '100000');
  else {
    const probe = scheme === 'http' || scheme === 'https' ? '1000000' : '500000';
    if (!input.fromFirstPacket) a.push('-fflags', 'nobuffer');
    a.push('-analyzeduration', probe, '-probesize', probe);
  }
  a.push('-i', url);
  return a;
}

function videoArgs(input: RelayInput, output: HlsOutputSpec): string[] {
  if (!needsTranscode(input, output)) return ['-map', '0:v:0', '-c:v', 'copy'];
  const s = output.segmentSeconds;
  const cap = output.maxBitrateKbps && output.maxBitrateKbps > 0 ? Math.round(output.maxBitrateKbps) : undefined;
  const gop =
    input.fps && input.fps > 0
      ? (() => {
          const g = String(Math.max(1, Math.round(input.fps * s)));
          return ['-g', g, '-keyint_min', g];
        })()
      : ['-force_key_frames', `expr:gte(t,n_forced*${num(s)})`];
  // prettier-ignore
  return [
    '-map', '0:v:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    // Browsers decode 8-bit 4:2:0 only; H.265 Main10 sources would otherwise stay 10-bit.
    '-pix_fmt', 'yuv420p',
    ...gop,
    ...(cap ? ['-crf', '23', '-maxrate', `${cap}k`, '-bufsize', `${2 * cap}k`] : []),
    // Keyframes only where a segment should start, so segments are as long as asked.
    '-sc_threshold', '0',
  ];
}

function audioArgs(input: RelayInput, output: HlsOutputSpec): string[] {
  if (!output.keepAudio || input.audio === 'none') return ['-an'];
  // `?`: the source may carry no audio after all; the relay must not fail for that.
  if (input.audio === 'aac') return ['-map', '0:a:0?', '-c:a', 'copy'];
  // G.711/G.726 from cameras: AAC is the audio HLS players take.
  return ['-map', '0:a:0?', '-c:a', 'aac', '-b:a', '64k'];
}

/** ffmpeg arguments of one relay: a camera stream in, a rolling HLS playlist in `output.dir` out. */
export function buildRelayArgs(input: RelayInput, output: HlsOutputSpec): string[] {
  if (!path.isAbsolute(output.dir)) throw new Error('HLS output dir must be absolute');
  if (!(output.segmentSeconds > 0)) throw new Error('segmentSeconds must be positive');
  if (!Number.isInteger(output.listSize) || output.listSize < 1) throw new Error('listSize must be a positive integer');
  const start = output.startNumber ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new Error('startNumber must be a non-negative integer');
  const flags = ['delete_segments', 'independent_segments', 'omit_endlist', 'temp_file'];
  if (start > 0) flags.push('discont_start');
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin', '-y',
    // key=value blocks on stdout every second: fps, out_time (bitrate is N/A for HLS; the relay measures segments).
    '-progress', 'pipe:1', ...(output.legacyFfmpeg ? [] : ['-stats_period', '1']),
    ...inputArgs(input, output.legacyFfmpeg === true),
    ...videoArgs(input, output),
    ...audioArgs(input, output),
    '-f', 'hls',
    '-hls_time', num(output.segmentSeconds),
    '-hls_list_size', String(output.listSize),
    '-hls_flags', flags.join('+'),
    '-start_number', String(start),
    '-hls_segment_filename', path.join(output.dir, SEGMENT_PATTERN),
    path.join(output.dir, PLAYLIST_NAME),
    ...(output.liveFd !== undefined ? buildLiveOutputArgs(output.liveFd) : []),
  ];
}

/**
 * The second output of a relay's ffmpeg: the source's video copied (never re-encoded, so an H.265 camera stays
 * H.265 here and the browser decides whether it can play it) into fragmented MP4 on a pipe.
 * - `empty_moov` + `delay_moov`: the init segment carries no samples, and is written with the first fragment, so
 *   a camera whose SDP has no parameter sets still gets an avcC/hvcC built from its first keyframe.
 * - `frag_every_frame`: a fragment per frame, so a frame leaves as soon as the next one dates it (one frame of
 *   delay, 40 ms at 25 fps) instead of a GOP later; `default_base_moof`: fragments that stand alone for MSE.
 * - `skip_trailer`: nothing at the end (the pipe is read live); `-flush_packets 1`: no buffering in ffmpeg.
 */
export function buildLiveOutputArgs(fd: number): string[] {
  if (!Number.isInteger(fd) || fd < 3) throw new Error('live output fd must be an integer of 3 or more');
  // prettier-ignore
  return [
    '-map', '0:v:0', '-c:v', 'copy', '-an',
    '-f', 'mp4',
    '-movflags', 'empty_moov+delay_moov+default_base_moof+frag_every_frame+skip_trailer',
    '-flush_packets', '1',
    `pipe:${fd}`,
  ];
}

/** One JPEG frame of a finished HLS segment to stdout (segments start with a keyframe). */
export function buildSnapshotArgs(segmentPath: string): string[] {
  if (!path.isAbsolute(segmentPath) || /[\x00-\x1f\x7f]/.test(segmentPath)) {
    throw new Error('snapshot source must be an absolute path without control characters');
  }
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-protocol_whitelist', 'file',
    '-i', segmentPath,
    '-an', '-frames:v', '1', '-q:v', '4',
    '-f', 'image2pipe', '-vcodec', 'mjpeg', '-',
  ];
}
