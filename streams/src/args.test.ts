import { describe, expect, it } from 'vitest';
import { buildRelayArgs, buildSnapshotArgs, validateSourceUrl, type HlsOutputSpec, type RelayInput } from './args.ts';
import { resolveFfmpeg } from './resolve-ffmpeg.ts';

const OUT: HlsOutputSpec = {
  dir: '/dev/shm/ccc-hls/t/cam1',
  segmentSeconds: 1,
  listSize: 6,
  transcode: false,
  keepAudio: false,
};
const HEAD = ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-y', '-progress', 'pipe:1', '-stats_period', '1'];
const RTSP_IN = ['-protocol_whitelist', 'rtsp,rtp,tcp,udp', '-rtsp_transport', 'tcp', '-timeout', '5000000'];
const FAST_PROBE = ['-fflags', 'nobuffer', '-analyzeduration', '500000', '-probesize', '500000'];
/** RTSP with the codec known from DESCRIBE: a short probe that keeps its packets. */
const KNOWN_PROBE = ['-analyzeduration', '100000', '-probesize', '100000'];
const HLS = (dir: string, flags = 'delete_segments+independent_segments+omit_endlist+temp_file', start = '0') => [
  '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', flags, '-start_number', start,
  '-hls_segment_filename', `${dir}/seg_%05d.ts`, `${dir}/index.m3u8`,
]; // prettier-ignore
const X264 = ['-map', '0:v:0', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'];

// prettier-ignore
const rows: Array<{ name: string; input: RelayInput; output?: Partial<HlsOutputSpec>; args: string[] }> = [
  {
    name: 'rtsp h264 without audio: video copied; credentials stay out of the arguments',
    input: { url: 'rtsp://10.1.2.3:554/Streaming/Channels/101', credentials: { username: 'admin', password: 'pw' }, codec: 'h264', audio: 'none' },
    args: [...HEAD, ...RTSP_IN, ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.3:554/Streaming/Channels/101',
      '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'rtsp h265 with G.711 kept: x264 with a GOP of fps × segment, audio to AAC',
    input: { url: 'rtsp://10.1.2.4/cam/realmonitor?channel=1&subtype=0', codec: 'h265', audio: 'other', fps: 25 },
    output: { keepAudio: true, segmentSeconds: 2 },
    args: [...HEAD, ...RTSP_IN, ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.4/cam/realmonitor?channel=1&subtype=0',
      ...X264, '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-map', '0:a:0?', '-c:a', 'aac', '-b:a', '64k',
      ...HLS(OUT.dir).map((a) => (a === '1' ? '2' : a))],
  },
  {
    name: 'h265 with unknown fps: keyframes forced every segment',
    input: { url: 'rtsp://10.1.2.5/media/video1', codec: 'h265', audio: 'aac' },
    output: { keepAudio: true },
    args: [...HEAD, ...RTSP_IN, ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.5/media/video1',
      ...X264, '-force_key_frames', 'expr:gte(t,n_forced*1)', '-sc_threshold', '0',
      '-map', '0:a:0?', '-c:a', 'copy', ...HLS(OUT.dir)],
  },
  {
    name: 'rtsp over udp, AAC dropped when audio is not kept',
    input: { url: 'rtsp://10.1.2.6:8554/live', codec: 'h264', audio: 'aac', rtspTransport: 'udp' },
    args: [...HEAD, '-protocol_whitelist', 'rtsp,rtp,tcp,udp', '-rtsp_transport', 'udp', '-timeout', '5000000',
      ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.6:8554/live', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'live output on fd 3 (issue 15): the same video copied into fMP4, one fragment per frame',
    input: { url: 'rtsp://10.1.2.9/live', codec: 'h264', audio: 'none' },
    output: { liveFd: 3 },
    args: [...HEAD, ...RTSP_IN, ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.9/live', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir),
      '-map', '0:v:0', '-c:v', 'copy', '-an', '-f', 'mp4',
      '-movflags', 'empty_moov+delay_moov+default_base_moof+frag_every_frame+skip_trailer', '-flush_packets', '1', 'pipe:3'],
  },
  {
    name: 'live output of an H.265 camera: HLS re-encoded to H.264, the live output copies H.265 (no second encode)',
    input: { url: 'rtsp://10.1.2.10/live', codec: 'h265', audio: 'none', fps: 25 },
    output: { liveFd: 3 },
    args: [...HEAD, ...RTSP_IN, ...KNOWN_PROBE, '-i', 'rtsp://10.1.2.10/live',
      ...X264, '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-an', ...HLS(OUT.dir),
      '-map', '0:v:0', '-c:v', 'copy', '-an', '-f', 'mp4',
      '-movflags', 'empty_moov+delay_moov+default_base_moof+frag_every_frame+skip_trailer', '-flush_packets', '1', 'pipe:3'],
  },
  {
    name: 'rtsp with an unknown codec: half a second of probing, nothing buffered',
    input: { url: 'rtsp://10.1.2.8/live', codec: 'unknown', audio: 'none' },
    args: [...HEAD, ...RTSP_IN, ...FAST_PROBE, '-i', 'rtsp://10.1.2.8/live', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'rtsps: TLS allowed, transport tcp',
    input: { url: 'RTSPS://10.1.2.7:322/s1', codec: 'h264', audio: 'unknown' },
    args: [...HEAD, '-protocol_whitelist', 'rtsp,rtsps,rtp,tcp,udp,tls', '-rtsp_transport', 'tcp', '-timeout', '5000000',
      ...KNOWN_PROBE, '-i', 'rtsps://10.1.2.7:322/s1', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'rtmp: rtmp and tcp only, unknown audio re-encoded when kept',
    input: { url: 'rtmp://127.0.0.1:1935/live/drone1', codec: 'h264', audio: 'unknown' },
    output: { keepAudio: true },
    args: [...HEAD, '-protocol_whitelist', 'rtmp,tcp', '-rw_timeout', '5000000', ...FAST_PROBE,
      '-i', 'rtmp://127.0.0.1:1935/live/drone1', '-map', '0:v:0', '-c:v', 'copy',
      '-map', '0:a:0?', '-c:a', 'aac', '-b:a', '64k', ...HLS(OUT.dir)],
  },
  {
    name: 'http MPEG-TS: probe of a second, unknown codec copied',
    input: { url: 'http://10.9.0.1/live/1.ts', codec: 'unknown', audio: 'none' },
    args: [...HEAD, '-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '5000000',
      '-fflags', 'nobuffer', '-analyzeduration', '1000000', '-probesize', '1000000',
      '-i', 'http://10.9.0.1/live/1.ts', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'replay from a moment, unknown codec: the probe keeps its packets (no nobuffer), so the asked GOP plays',
    input: { url: 'rtsp://127.0.0.1:5554/replay', codec: 'unknown', audio: 'none', fromFirstPacket: true },
    args: [...HEAD, ...RTSP_IN, '-analyzeduration', '500000', '-probesize', '500000',
      '-i', 'rtsp://127.0.0.1:5554/replay', '-map', '0:v:0', '-c:v', 'copy', '-an', ...HLS(OUT.dir)],
  },
  {
    name: 'restart: numbering continues, discontinuity marked; forced re-encode of h264 with a bitrate cap',
    input: { url: 'https://platform.example/hls/1.m3u8', codec: 'h264', audio: 'none', fps: 12.5 },
    output: { startNumber: 42, transcode: true, maxBitrateKbps: 2500 },
    args: [...HEAD, '-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', '5000000',
      '-fflags', 'nobuffer', '-analyzeduration', '1000000', '-probesize', '1000000',
      '-i', 'https://platform.example/hls/1.m3u8', ...X264, '-g', '13', '-keyint_min', '13',
      '-crf', '23', '-maxrate', '2500k', '-bufsize', '5000k', '-sc_threshold', '0', '-an',
      ...HLS(OUT.dir, 'delete_segments+independent_segments+omit_endlist+temp_file+discont_start', '42')],
  },
];

describe('buildRelayArgs', () => {
  for (const row of rows) {
    it(row.name, () => {
      expect(buildRelayArgs(row.input, { ...OUT, ...row.output })).toEqual(row.args);
    });
  }

  it('puts the URL in exactly one argument, right after -i', () => {
    const url = 'rtsp://10.0.0.1/a?b=c&d=-e';
    const args = buildRelayArgs({ url, codec: 'h264', audio: 'none' }, OUT);
    expect(args.filter((a) => a.includes('10.0.0.1'))).toEqual([url]);
    expect(args[args.indexOf(url) - 1]).toBe('-i');
  });

  it('refuses a URL with credentials in it: argv is readable by every local user', () => {
    for (const url of [
      'rtsp://admin:pw@10.0.0.1/a',
      'rtsp://admin@10.0.0.1/a',
      'http://u:p@10.0.0.2/x.ts',
      'rtmp://u:p@h/live/a',
    ])
      expect(() => buildRelayArgs({ url, codec: 'h264', audio: 'none' }, OUT)).toThrow(/credentials/);
    // An '@' in the path or query is not userinfo.
    expect(() => buildRelayArgs({ url: 'rtsp://10.0.0.1/a@b?c=d@e', codec: 'h264', audio: 'none' }, OUT)).not.toThrow();
  });

  it('refuses what validateSourceUrl refuses, and relative output dirs', () => {
    expect(() => buildRelayArgs({ url: 'rtsp://h/x', codec: 'h264', audio: 'none' }, { ...OUT, liveFd: 1 })).toThrow(
      /fd/,
    );
    expect(() => buildRelayArgs({ url: 'file:///etc/passwd', codec: 'h264', audio: 'none' }, OUT)).toThrow(/scheme/);
    expect(() => buildRelayArgs({ url: 'rtsp://h/x', codec: 'h264', audio: 'none' }, { ...OUT, dir: 'rel' })).toThrow(
      /absolute/,
    );
  });
});

describe('validateSourceUrl', () => {
  const rejected: Array<[unknown, RegExp]> = [
    ['', /empty/],
    [42, /empty/],
    ['-i /etc/passwd', /starts with "-"/],
    ['-rtsp://h/x', /starts with "-"/],
    ['file:///etc/passwd', /scheme "file:"/],
    ['concat:/a.ts|/b.ts', /"\|"/],
    ['concat:/a.ts', /scheme "concat:"/],
    ['subfile,,start,0,end,0,,:/etc/passwd', /no scheme/],
    ['subfile:/etc/passwd', /scheme "subfile:"/],
    ['data:text/plain;base64,AAAA', /scheme "data:"/],
    ['pipe:0', /scheme "pipe:"/],
    ['async:http://h/x', /scheme "async:"/],
    ['cache:http://h/x', /scheme "cache:"/],
    ['crypto+http://h/x', /scheme "crypto\+http:"/],
    ['tcp://h:1', /scheme "tcp:"/],
    ['udp://239.0.0.1:1234', /scheme "udp:"/],
    ['rtsp://h/x|y', /"\|"/],
    ['rtsp://h/a b', /whitespace/],
    ['rtsp://h/a\tb', /control/],
    ['rtsp://h/x\n-i', /control/],
    ['rtsp://h/\u0000', /control/],
    ['rtsp://h/摄像头', /non-ASCII/],
    ['rtsp:/h/x', /must be followed by "\/\/host"/],
    ['rtsp:///x', /no host|not a valid/],
    ['http://', /not a valid|no host/],
    ['rtsp://' + 'a'.repeat(2050), /longer than 2048/],
    ['/dev/video0', /no scheme/],
  ];
  for (const [url, reason] of rejected) {
    it(`rejects ${JSON.stringify(url).slice(0, 50)}`, () => {
      const r = validateSourceUrl(url);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    });
  }

  it.each([
    ['rtsp://admin:12345@192.168.1.64:554/Streaming/Channels/101', 'rtsp'],
    ['RTSP://10.0.0.1/x', 'rtsp'],
    ['rtsps://cam.local:322/s', 'rtsps'],
    ['rtmp://127.0.0.1/live/a', 'rtmp'],
    ['http://10.0.0.1:8080/live.flv', 'http'],
    ['https://[fd00::1]/a.m3u8', 'https'],
  ])('accepts %s', (url, scheme) => {
    const r = validateSourceUrl(url);
    expect(r).toMatchObject({ ok: true, scheme });
    if (r.ok) expect(r.url.toLowerCase()).toBe(url.toLowerCase());
  });
});

describe('buildSnapshotArgs', () => {
  it('reads one local segment, writes one JPEG to stdout', () => {
    // prettier-ignore
    expect(buildSnapshotArgs('/dev/shm/ccc-hls/t/cam1/seg_00007.ts')).toEqual([
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-protocol_whitelist', 'file',
      '-i', '/dev/shm/ccc-hls/t/cam1/seg_00007.ts',
      '-an', '-frames:v', '1', '-q:v', '4', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-',
    ]);
  });
  it('refuses relative paths', () => {
    expect(() => buildSnapshotArgs('seg_1.ts')).toThrow(/absolute/);
    expect(() => buildSnapshotArgs('concat:/a|/b')).toThrow(/absolute/);
  });
});

describe('resolveFfmpeg', () => {
  const env = { PATH: '/usr/local/bin:/usr/bin' };
  const files =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it.each([
    [
      { configured: '/opt/ff/ffmpeg', exists: files('/opt/ff/ffmpeg', '/usr/bin/ffmpeg') },
      '/opt/ff/ffmpeg',
      'configured',
    ],
    [{ configured: null, exists: files('/usr/bin/ffmpeg') }, '/usr/bin/ffmpeg', 'PATH'],
    [{ configured: '  ', exists: files('/usr/local/bin/ffmpeg', '/usr/bin/ffmpeg') }, '/usr/local/bin/ffmpeg', 'PATH'],
    [
      { cwd: '/srv/ccc/server', exists: files('/srv/ccc/node_modules/@ffmpeg-installer/linux-x64/ffmpeg') },
      '/srv/ccc/node_modules/@ffmpeg-installer/linux-x64/ffmpeg',
      'npm',
    ],
  ] as const)('picks %#', (input, path, source) => {
    expect(resolveFfmpeg({ env, ...input })).toMatchObject({ ok: true, path, source });
  });

  it('falls back from a configured path that is not executable, saying so', () => {
    const r = resolveFfmpeg({ configured: '/nope/ffmpeg', env, exists: files('/usr/bin/ffmpeg') });
    expect(r).toMatchObject({ ok: true, path: '/usr/bin/ffmpeg', source: 'PATH' });
    if (r.ok) expect(r.warning).toMatch(/\/nope\/ffmpeg/);
  });

  it('names what to install when nothing is found', () => {
    const r = resolveFfmpeg({ configured: '/nope/ffmpeg', env, exists: () => false, cwd: '/srv/ccc' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(/apt-get install ffmpeg/);
      expect(r.error).toMatch(/\/nope\/ffmpeg/);
    }
  });
});

describe('legacy ffmpeg', () => {
  it('leaves out -stats_period, which ffmpeg before 4.4 does not know', () => {
    const args = buildRelayArgs(
      { url: 'rtsp://10.0.0.5/ch1', codec: 'h264', audio: 'none' },
      { dir: '/hls/a', segmentSeconds: 1, listSize: 6, transcode: false, keepAudio: false, legacyFfmpeg: true },
    );
    expect(args).not.toContain('-stats_period');
    // ffmpeg 4's RTSP socket timeout is -stimeout; its -timeout would make ffmpeg listen instead.
    expect(args.slice(args.indexOf('-rtsp_transport'), args.indexOf('-rtsp_transport') + 4)).toEqual([
      '-rtsp_transport',
      'tcp',
      '-stimeout',
      '5000000',
    ]);
    expect(args.slice(0, 7)).toEqual(['-hide_banner', '-loglevel', 'warning', '-nostdin', '-y', '-progress', 'pipe:1']);
  });
});
