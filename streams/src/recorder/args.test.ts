import { describe, expect, it } from 'vitest';
import type { RelayInput } from '../args.ts';
import {
  buildExportArgs,
  buildRecordArgs,
  buildRepairArgs,
  concatList,
  parseSegmentList,
  progressDuration,
} from './args.ts';

const HEAD = ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-y', '-progress', 'pipe:1'];
const RTSP_IN = ['-protocol_whitelist', 'rtsp,rtp,tcp,udp', '-rtsp_transport', 'tcp', '-timeout', '5000000'];
const KNOWN_PROBE = ['-analyzeduration', '100000', '-probesize', '100000'];
const SEGMENT = (dir: string, secs: string) => [
  '-map', '0:v:0', '-c:v', 'copy', '-an',
  '-f', 'segment', '-segment_time', secs, '-segment_format', 'mpegts',
  '-segment_format_options', 'flush_packets=1', '-segment_list', `${dir}/list.csv`, '-segment_list_type', 'csv', '-segment_start_number', '0',
  `${dir}/seg_%06d.ts`,
]; // prettier-ignore
const proxied: RelayInput = { url: 'rtsp://127.0.0.1:40001/tok/live/main', codec: 'h264', audio: 'none' };

// prettier-ignore
const rows: Array<{ name: string; input: RelayInput; dir: string; secs: number; legacy?: boolean; args: string[] }> = [
  {
    name: 'H.264 over the loopback proxy: copied into 6 s MPEG-TS segments, listed as they close',
    input: proxied, dir: '/var/ccc/rec/cam1-ab/20261204T210000000Z', secs: 6,
    args: [...HEAD, '-stats_period', '1', ...RTSP_IN, ...KNOWN_PROBE, '-i', proxied.url,
      ...SEGMENT('/var/ccc/rec/cam1-ab/20261204T210000000Z', '6')],
  },
  {
    name: 'H.265 is recorded as H.265: still a copy, never libx264',
    input: { ...proxied, codec: 'h265' }, dir: '/r/x/1', secs: 10,
    args: [...HEAD, '-stats_period', '1', ...RTSP_IN, ...KNOWN_PROBE, '-i', proxied.url, ...SEGMENT('/r/x/1', '10')],
  },
  {
    name: 'an unknown codec over HTTP probes longer; legacy ffmpeg has no -stats_period',
    input: { url: 'http://10.0.0.5/live.ts', codec: 'unknown', audio: 'unknown' }, dir: '/r/y/2', secs: 2.5, legacy: true,
    args: [...HEAD, '-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '5000000',
      '-fflags', 'nobuffer', '-analyzeduration', '1000000', '-probesize', '1000000', '-i', 'http://10.0.0.5/live.ts',
      ...SEGMENT('/r/y/2', '2.5')],
  },
];

describe('buildRecordArgs', () => {
  for (const row of rows) {
    it(row.name, () => {
      expect(
        buildRecordArgs(row.input, {
          dir: row.dir,
          segmentSeconds: row.secs,
          ...(row.legacy ? { legacyFfmpeg: true } : {}),
        }),
      ).toEqual(row.args);
    });
  }
  it('never re-encodes', () => {
    for (const row of rows) {
      const a = buildRecordArgs(row.input, { dir: row.dir, segmentSeconds: row.secs });
      expect(a).not.toContain('libx264');
      expect(a[a.indexOf('-c:v') + 1]).toBe('copy');
    }
  });
  it.each([
    ['credentials in the URL', { ...proxied, url: 'rtsp://admin:pw@10.0.0.1/live' }, '/r/a', 6, /credentials/],
    ['a relative directory', proxied, 'rec/a', 6, /absolute/],
    ['a zero segment length', proxied, '/r/a', 0, /segmentSeconds/],
    ['a file: source', { ...proxied, url: 'file:///etc/passwd' }, '/r/a', 6, /not allowed/],
  ] as const)('refuses %s', (_n, input, dir, secs, err) => {
    expect(() => buildRecordArgs(input, { dir, segmentSeconds: secs })).toThrow(err);
  });
});

describe('repair, concat and export', () => {
  it('repair copies what is readable into a clean TS and reports its length', () => {
    expect(buildRepairArgs('/r/a/seg_000003.ts', '/r/a/seg_000003.ts.repair')).toEqual([
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-protocol_whitelist', 'file',
      '-err_detect', 'ignore_err', '-i', '/r/a/seg_000003.ts',
      '-map', '0:v:0', '-c', 'copy', '-f', 'mpegts', '-progress', 'pipe:1', '/r/a/seg_000003.ts.repair',
    ]); // prettier-ignore
    expect(() => buildRepairArgs('seg.ts', '/x')).toThrow(/absolute/);
  });
  it('concat lists quote paths; relative or control characters are refused', () => {
    expect(concatList(['/r/a/seg_000001.ts', "/r/it's/seg_000002.ts"])).toBe(
      "file '/r/a/seg_000001.ts'\nfile '/r/it'\\''s/seg_000002.ts'\n",
    );
    expect(() => concatList(['seg.ts'])).toThrow();
    expect(() => concatList(['/r/a\nfile /etc/passwd'])).toThrow();
  });
  it('export: concat demuxer, seek to the offset, copy for the duration into a capped MP4', () => {
    expect(buildExportArgs({ listFile: '/t/l.txt', offsetSec: 12.5, durationSec: 30, out: '/t/o.mp4', maxBytes: 1e9 })).toEqual([
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file',
      '-ss', '12.5', '-i', '/t/l.txt', '-t', '30', '-map', '0:v:0', '-c', 'copy', '-fs', '1000000000',
      '-movflags', '+faststart', '-f', 'mp4', '/t/o.mp4',
    ]); // prettier-ignore
    expect(
      buildExportArgs({ listFile: '/t/l.txt', offsetSec: 0, durationSec: 5, out: '/t/o.mp4', maxBytes: 10 }),
    ).not.toContain('-ss');
    expect(() =>
      buildExportArgs({ listFile: '/t/l.txt', offsetSec: 0, durationSec: 0, out: '/t/o.mp4', maxBytes: 10 }),
    ).toThrow();
  });
  it('segment lists: whole lines only, empty segments left out', () => {
    expect(
      parseSegmentList(
        'seg_000000.ts,0.000000,6.040000\nseg_000001.ts,6.040000,12.0\nseg_000002.ts,12.0,12.0\nseg_0000',
      ),
    ).toEqual([
      { name: 'seg_000000.ts', start: 0, end: 6.04 },
      { name: 'seg_000001.ts', start: 6.04, end: 12 },
    ]);
  });
  it('progress duration is the last out_time_us', () => {
    expect(progressDuration('out_time_us=1000000\nprogress=continue\nout_time_us=4200000\nprogress=end\n')).toBe(4.2);
    expect(progressDuration('progress=end\n')).toBeNull();
  });
});
