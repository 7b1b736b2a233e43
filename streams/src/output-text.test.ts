/** Pure readers: ffmpeg progress and stderr, playlists, MPEG-TS program tables, /proc stat lines. */
import { describe, expect, it } from 'vitest';
import { parsePlaylist, segmentNumber, tsStreamTypes, tsVideoCodec } from './hls.ts';
import { LineSplitter, ProgressParser, RingBuffer, redactUrls } from './output-text.ts';
import { parseProcStat } from './process.ts';

describe('ffmpeg output', () => {
  it('splits lines across chunks and CR/LF styles', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.push('c\r\nd\re')).toEqual(['bc', 'd']);
    expect(s.flush()).toEqual(['e']);
    expect(s.flush()).toEqual([]);
  });

  it('caps an endless line', () => {
    const s = new LineSplitter(10);
    expect(s.push('x'.repeat(100))).toEqual([]);
    expect(s.flush()[0]).toHaveLength(10);
  });

  it('parses -progress blocks', () => {
    const p = new ProgressParser();
    const lines =
      'frame=46\nfps=8.83\nstream_0_0_q=-1.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=5900000\nout_time_ms=5900000\n' +
      'out_time=00:00:05.900000\ndup_frames=0\ndrop_frames=0\nspeed=1.13x\nprogress=continue\n';
    const samples = lines
      .split('\n')
      .map((l) => p.line(l))
      .filter(Boolean);
    expect(samples).toEqual([{ frame: 46, fps: 8.83, outTimeMs: 5900, speed: 1.13, progress: 'continue' }]);
    for (const l of ['fps=25.00', 'bitrate=2048.3kbits/s', 'out_time_us=N/A']) p.line(l);
    expect(p.line('progress=end')).toEqual({ fps: 25, bitrateKbps: 2048.3, progress: 'end' });
  });

  it('keeps the last N lines', () => {
    const r = new RingBuffer<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    expect(r.toArray()).toEqual([2, 3, 4]);
    expect(r.last()).toBe(4);
  });

  it.each([
    ['rtsp://admin:12345@10.0.0.1:554/x: Connection refused', 'rtsp://***@10.0.0.1:554/x: Connection refused'],
    ['rtsp://admin:p@ss@10.0.0.1/x', 'rtsp://***@10.0.0.1/x'],
    ['Connection to tcp://10.0.0.1:554?timeout=5 failed', 'Connection to tcp://10.0.0.1:554?timeout=5 failed'],
    ['http://u:p@a/b and rtmp://x:y@c/d', 'http://***@a/b and rtmp://***@c/d'],
  ])('masks credentials: %s', (input, out) => {
    expect(redactUrls(input)).toBe(out);
  });
});

describe('HLS playlists', () => {
  it('parses what ffmpeg writes', () => {
    const pl = parsePlaylist(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
        '#EXT-X-DISCONTINUITY\n#EXTINF:1.000000,\nseg_00041.ts\n#EXTINF:1.900000,\nseg_00042.ts\n',
    );
    expect(pl).toEqual({
      mediaSequence: 41,
      targetDuration: 2,
      endList: false,
      segments: [
        { uri: 'seg_00041.ts', duration: 1 },
        { uri: 'seg_00042.ts', duration: 1.9 },
      ],
    });
    expect(parsePlaylist('')).toEqual({ mediaSequence: 0, segments: [], endList: false });
  });

  it.each([
    ['seg_00042.ts', 42],
    ['seg_123456.ts', 123456],
    ['seg_00042.ts.tmp', null],
    ['index.m3u8', null],
    ['seg_42.ts', null],
  ])('segment number of %s', (name, n) => expect(segmentNumber(name)).toBe(n));
});

/** One TS packet carrying a PSI section (pointer field 0), padded with 0xff. */
function psiPacket(pid: number, section: number[]): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10, 0x00], 0);
  p.set(section, 5);
  return p;
}
const CRC = [0, 0, 0, 0];
const pat = psiPacket(0, [0x00, 0xb0, 13, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe1, 0x00, ...CRC]);
const pmt = (types: number[]) => {
  const streams = types.flatMap((t, i) => [t, 0xe1, 0x00 + i, 0xf0, 0x00]);
  return psiPacket(0x100, [
    0x02,
    0xb0,
    9 + streams.length + 4,
    0x00,
    0x01,
    0xc1,
    0x00,
    0x00,
    0xe1,
    0x00,
    0xf0,
    0x00,
    ...streams,
    ...CRC,
  ]);
};

describe('MPEG-TS program table', () => {
  it('finds the stream types of the first program', () => {
    const videoPacket = Buffer.alloc(188, 0);
    videoPacket.set([0x47, 0x41, 0x00, 0x10]);
    expect(tsStreamTypes(Buffer.concat([pat, pmt([0x24, 0x0f]), videoPacket]))).toEqual([0x24, 0x0f]);
    expect(tsVideoCodec(Buffer.concat([pat, pmt([0x24, 0x0f])]))).toBe('h265');
    expect(tsVideoCodec(Buffer.concat([pat, pmt([0x1b])]))).toBe('h264');
    expect(tsVideoCodec(Buffer.concat([pat, pmt([0x02])]))).toBe('other');
  });
  it('gives up on anything that is not aligned MPEG-TS', () => {
    expect(tsVideoCodec(Buffer.from('#EXTM3U\n'.repeat(50)))).toBeNull();
    expect(tsVideoCodec(pat)).toBeNull();
  });
});

describe('/proc/<pid>/stat', () => {
  it('reads ppid, group and start time even when the name has spaces and parentheses', () => {
    const line =
      '4242 (ffmpeg (relay) x) S 1 4242 4242 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 3 0 987654 1000 100 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ ppid: 1, pgrp: 4242, startTime: 987654, state: 'S' });
  });
  it('treats zombies as gone', () => {
    expect(parseProcStat('7 (ffmpeg) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0 0')).toBeNull();
  });
});
