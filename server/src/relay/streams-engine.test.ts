import { describe, expect, it } from 'vitest';
import { buildCodecProbeArgs, codecFromProbe } from './streams-engine.ts';

describe('buildCodecProbeArgs', () => {
  // prettier-ignore
  const table: [string, string[]][] = [
    ['rtmp://127.0.0.1:1935/live/cam7', ['-hide_banner', '-nostdin', '-protocol_whitelist', 'rtmp,tcp', '-analyzeduration', '1000000', '-probesize', '1000000', '-i', 'rtmp://127.0.0.1:1935/live/cam7']],
    ['http://10.1.2.3/live.ts', ['-hide_banner', '-nostdin', '-protocol_whitelist', 'http,tcp', '-analyzeduration', '1000000', '-probesize', '1000000', '-i', 'http://10.1.2.3/live.ts']],
  ];
  it.each(table)('%s', (url, args) => expect(buildCodecProbeArgs(url)).toEqual(args));

  it('refuses schemes it has no whitelist for, and credentials in the URL', () => {
    expect(() => buildCodecProbeArgs('file:///etc/passwd')).toThrow(/unsupported scheme/);
    expect(() => buildCodecProbeArgs('http://u:p@10.1.2.3/live.ts')).toThrow(/credentials/);
  });
});

describe("codecFromProbe (ffmpeg's own description of an input; no ffprobe needed)", () => {
  // What ffmpeg 5.1 and the npm-shipped 4.1 print for an input when no output is named.
  const hevc = `Input #0, mpegts, from 'http://127.0.0.1:9/live.ts':
  Duration: N/A, start: 1.400000, bitrate: N/A
  Program 1
    Stream #0:0[0x100]: Video: hevc (Main) (HEVC / 0x43564548), yuv420p(tv), 1920x1080, 25 fps, 25 tbr, 90k tbn
At least one output file must be specified`;
  const h264 = `Input #0, flv, from 'rtmp://127.0.0.1:1935/live/cam7':
    Stream #0:0: Audio: aac (LC), 44100 Hz, stereo, fltp
    Stream #0:1: Video: h264 (Constrained Baseline), yuv420p(progressive), 640x360, 15 fps, 15 tbr, 1k tbn, 1k tbc
At least one output file must be specified`;
  it.each([
    ['H.265 over HTTP', hevc, 'h265'],
    ['H.264 behind an audio stream', h264, 'h264'],
    ['nothing found', 'rtmp://x: Connection refused', 'unknown'],
  ] as const)('%s', (_n, text, codec) => expect(codecFromProbe(text)).toBe(codec));
});
