import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FONT as FONT,
  clipEncodeArgs,
  clipFileName,
  clipFrames,
  placeholderParams,
  snapshotArgs,
  snapshotFileName,
  type ClipParams,
} from './clips.ts';
import { parseProbe, probeMatches, probeXml } from './discovery.ts';
import { EventBroker } from './events.ts';
import { PtzState } from './ptz.ts';
import { defaultCameraSpecs, endpointUuid, isLoopbackV4, loopbackHosts, simPasswordFor } from './specs.ts';
import type { SimCameraInfo } from './types.ts';

describe('default camera fleet', () => {
  const specs = defaultCameraSpecs(300);

  it('is deterministic for a seed', () => {
    expect(defaultCameraSpecs(300)).toEqual(specs);
    expect(defaultCameraSpecs(20, { seed: 7 })).not.toEqual(specs.slice(0, 20));
  });

  it('puts each camera on its own loopback address, skipping .0 and .255', () => {
    expect(specs[0]!.host).toBe('127.0.1.1');
    expect(specs[254]!.host).toBe('127.0.2.1');
    expect(new Set(specs.map((s) => s.host)).size).toBe(300);
    expect(specs.every((s) => isLoopbackV4(s.host) && !/\.(0|255)$/.test(s.host))).toBe(true);
    expect(() => loopbackHosts(1, '10.0.0.1')).toThrow(/loopback/);
    expect(() => loopbackHosts(600, '127.255.254.1')).toThrow();
  });

  it('mixes vendors, about a fifth PTZ, codes of 20 digits, passwords from serials, some clocks off', () => {
    const vendors = new Set(specs.map((s) => s.manufacturer));
    expect(vendors).toEqual(new Set(['HIKVISION', 'Dahua', 'Uniview']));
    const ptz = specs.filter((s) => s.ptz).length / specs.length;
    expect(ptz).toBeGreaterThan(0.15);
    expect(ptz).toBeLessThan(0.25);
    expect(specs.every((s) => /^\d{20}$/.test(s.code) && s.code.slice(10, 13) === '132')).toBe(true);
    expect(new Set(specs.map((s) => s.code)).size).toBe(300);
    expect(specs.every((s) => s.username === 'admin' && s.password === simPasswordFor(s.serial))).toBe(true);
    expect(specs.every((s) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(s.mac))).toBe(true);
    const off = specs.map((s) => s.clockOffsetSec);
    expect(off.filter((o) => o === 0).length / off.length).toBeGreaterThan(0.6);
    expect(off.some((o) => Math.abs(o) >= 3600)).toBe(true);
    expect(endpointUuid(specs[0]!.code)).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });
});

describe('ffmpeg arguments', () => {
  const p: ClipParams = {
    code: '34112600011320000002',
    caption: "HIKVISION DS-2CD3T46WDV3-I3's",
    stream: 'main',
    profile: { width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 },
    gopFrames: 25,
    seconds: 4,
    hue: 40,
  };

  it('encodes a looping baseline Annex-B clip with one-second GOPs and headers on every IDR', () => {
    const a = clipEncodeArgs(p, '/tmp/x.h264', '/f.ttf');
    const opt = (k: string) => a[a.lastIndexOf(k) + 1];
    expect(opt('-i')).toBe('testsrc2=size=1920x1080:rate=25');
    expect(opt('-frames:v')).toBe('100');
    expect(opt('-profile:v')).toBe('baseline');
    expect(opt('-g')).toBe('25');
    expect(opt('-keyint_min')).toBe('25');
    expect(opt('-sc_threshold')).toBe('0');
    expect(opt('-bf')).toBe('0');
    // 1080 lines are coded as 68 macroblock rows, the last one cropped to 8: the clock band is the last two
    // rows (2 × 120 macroblocks), a slice of its own, black in the encoder's picture from 8 lines above.
    expect(opt('-x264-params')).toBe('repeat-headers=1:slice-max-mbs=7920');
    expect(opt('-vf')).toMatch(/,drawbox=x=0:y=1048:w=iw:h=32:color=black:t=fill$/);
    expect(opt('-f')).toBe('h264');
    expect(a.at(-1)).toBe('/tmp/x.h264');
    expect(opt('-vf')).toContain("text='34112600011320000002'");
    expect(opt('-vf')).not.toContain("3-I3's"); // quotes cannot break out of the filter
  });

  it('uses the same encoder settings for the shared placeholder, so SPS/PPS match; no code in its picture', () => {
    const clip = clipEncodeArgs(p, 'o', FONT);
    const ph = clipEncodeArgs(placeholderParams(p.profile, 25, 4), 'o', FONT);
    const enc = (a: string[]) => a.slice(a.indexOf('-c:v'));
    expect(enc(ph)).toEqual(enc(clip));
    const vf = ph[ph.indexOf('-vf') + 1]!;
    expect(vf).toContain("text='SIM'");
    expect(vf).toContain("text='1920x1080 25fps'");
    expect(vf).not.toContain('hue=');
    expect(vf).not.toContain(p.code);
  });

  it('draws no text without a font file, so the clip still encodes', () => {
    const vf = (a: string[]) => a[a.indexOf('-vf') + 1]!;
    const band = 'drawbox=x=0:y=1048:w=iw:h=32:color=black:t=fill';
    expect(vf(clipEncodeArgs(placeholderParams(p.profile, 25, 4), 'o'))).toBe(`null,${band}`);
    expect(vf(clipEncodeArgs(p, 'o'))).toMatch(new RegExp(`^hue=h=\\d+,${band}$`));
  });

  it('rounds a clip up to whole GOPs, so its loop point is a keyframe', () => {
    const frames = (gopFrames: number, seconds: number, fps = 25) =>
      clipFrames({ profile: { ...p.profile, fps }, gopFrames, seconds });
    expect(frames(25, 4)).toBe(100);
    expect(frames(75, 4)).toBe(150); // 3 s GOP: 6 s
    expect(frames(200, 4)).toBe(200); // 8 s GOP: one GOP
    expect(frames(23, 4, 15)).toBe(69); // 1.5 s at 15 fps
  });

  it('keys the placeholder by geometry only', () => {
    const a = placeholderParams(p.profile, 25, 4);
    expect(clipFileName(a)).toMatch(/^placeholder-1920x1080-25fps-g25-[0-9a-f]{10}\.h264$/);
    expect(clipFileName(placeholderParams({ ...p.profile }, 25, 4))).toBe(clipFileName(a));
    expect(clipFileName(placeholderParams({ ...p.profile, bitrateKbps: 2048 }, 25, 4))).not.toBe(clipFileName(a));
    expect(clipFileName(placeholderParams(p.profile, 50, 4))).not.toBe(clipFileName(a));
    expect(snapshotFileName(a)).toMatch(/^placeholder-snapshot-1920x1080-[0-9a-f]{10}\.jpg$/);
  });

  it('makes one JPEG for the snapshot', () => {
    const a = snapshotArgs(p, 's.jpg');
    expect(a.slice(a.indexOf('-frames:v'))).toEqual([
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      '-pix_fmt',
      'yuvj420p',
      '-q:v',
      '5',
      '-f',
      'mjpeg',
      's.jpg',
    ]);
  });

  it('keys cached clips by code, stream and parameters', () => {
    expect(clipFileName(p)).toMatch(/^34112600011320000002-main-1920x1080-25fps-g25-[0-9a-f]{10}\.h264$/);
    expect(clipFileName({ ...p, seconds: 2 })).not.toBe(clipFileName(p));
  });
});

describe('PTZ mechanics', () => {
  it('integrates continuous moves over time, wraps pan, clamps tilt and zoom, honours Timeout', () => {
    const z = new PtzState([{ name: 'A', pan: 0.2, tilt: 0.1, zoom: 0.3 }]);
    z.continuousMove(0, { pan: 1, tilt: 1, zoom: 1 });
    expect(z.status(1000)).toMatchObject({ pan: 0.5, tilt: 0.5, zoom: 0.25, moving: true });
    expect(z.status(3000)).toMatchObject({ pan: -0.5, tilt: 1, zoom: 0.75 });
    z.stop(3000);
    expect(z.status(9000)).toMatchObject({ pan: -0.5, moving: false });
    z.continuousMove(9000, { pan: -1 }, 500);
    expect(z.status(20_000)).toMatchObject({ pan: -0.75, moving: false });
    expect(z.gotoPreset(20_000, '1')).toBe(true);
    expect(z.status(20_000)).toMatchObject({ pan: 0.2, tilt: 0.1, zoom: 0.3 });
    expect(z.gotoPreset(20_000, '9')).toBe(false);
  });
});

describe('events', () => {
  it('queues Initialized then Changed messages and wakes a waiting pull', async () => {
    const b = new EventBroker(2);
    const sub = b.create(0, 60_000)!;
    expect((await b.pull(sub, 10, 10).done).map((m) => m.operation)).toEqual(['Initialized', 'Initialized']);
    const p = b.pull(sub, 5000, 10);
    b.emit('motion', true, 1);
    expect(await p.done).toEqual([
      { topic: 'tns1:VideoSource/MotionAlarm', atMs: 1, operation: 'Changed', state: true },
    ]);
    expect(b.create(0, 1000)).toBeDefined();
    expect(b.create(0, 1000)).toBeUndefined();
    b.sweep(2000);
    expect(b.subs.size).toBe(1);
  });
});

describe('WS-Discovery matching', () => {
  const info = {
    ptz: false,
    model: 'DS-2CD2T47G2-L',
    code: '34112600011320000002',
    manufacturer: 'HIKVISION',
  } as SimCameraInfo;
  it.each([
    ['dn:NetworkVideoTransmitter', true],
    ['tds:Device', true],
    ['', true],
    ['dn:NetworkVideoTransmitter tds:Device', true],
    ['wsdp:Printer', false],
  ])('types "%s" → %s', (types, match) => {
    const probe = parseProbe(probeXml('urn:uuid:1', types))!;
    expect(probe.messageId).toBe('urn:uuid:1');
    expect(probeMatches(info, probe)).toBe(match);
  });

  it('matches scopes by prefix', () => {
    const probe = parseProbe(probeXml('urn:uuid:1', ''))!;
    expect(probeMatches(info, { ...probe, scopes: ['onvif://www.onvif.org/name'] })).toBe(true);
    expect(probeMatches(info, { ...probe, scopes: ['onvif://www.onvif.org/hardware/DS-2CD2T47G2-L'] })).toBe(true);
    expect(probeMatches(info, { ...probe, scopes: ['onvif://www.onvif.org/hardware/DS-2CD'] })).toBe(false);
  });
});
