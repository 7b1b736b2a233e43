import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter, escapeRbsp, unescapeRbsp } from './h264.ts';
import { clockBandLayout, clockSei, clockText, readClockSei } from './wallclock.ts';

describe('bits', () => {
  it('writes Exp-Golomb codes that read back', () => {
    const w = new BitWriter();
    const values = [0, 1, 2, 3, 25, 30, 450, 7920, 65535];
    for (const v of values) w.ue(v);
    for (const v of [0, 1, -1, 5, -26]) w.se(v);
    const r = new BitReader(w.finish());
    expect(values.map(() => r.ue())).toEqual(values);
    expect([0, 1, -1, 5, -26].map(() => r.se())).toEqual([0, 1, -1, 5, -26]);
  });

  it('escapes start-code emulation and unescapes it back', () => {
    const rbsp = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0]);
    const nal = escapeRbsp(rbsp);
    expect([...nal]).toEqual([0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 3, 2, 0, 0, 3, 3, 0, 0, 4, 0, 0]);
    expect(unescapeRbsp(nal)).toEqual(rbsp);
  });
});

describe('clock SEI', () => {
  it('carries capture time (µs) and frame number, through emulation prevention', () => {
    // A time and frame number whose bytes contain 00 00 0x runs.
    for (const [ms, frame] of [
      [1_764_000_000_000.123, 0x00000001],
      [Date.now() + 0.5, 123_456],
      [0x10000 / 1000, 0x00000300],
    ] as const) {
      const nal = clockSei(ms, frame);
      expect(nal[0]).toBe(0x06);
      const r = readClockSei(nal)!;
      expect(r.frame).toBe(frame);
      expect(r.wallClockMs).toBeCloseTo(ms, 3);
    }
    expect(readClockSei(Buffer.from([0x06, 5, 1, 0, 0x80]))).toBeUndefined();
  });
});

describe('clock band layout', () => {
  it('takes the last whole macroblock row, or the last two where the last is cropped', () => {
    expect(clockBandLayout(1280, 720)).toMatchObject({ firstRow: 44, rows: 1, firstMb: 3520, withDate: true });
    expect(clockBandLayout(480, 270)).toMatchObject({ firstRow: 15, rows: 2, firstMb: 450, withDate: true });
    expect(clockBandLayout(1920, 1080)).toMatchObject({ firstRow: 66, rows: 2, firstMb: 7920 });
    expect(clockBandLayout(160, 90)).toMatchObject({ firstRow: 4, rows: 2, withDate: false, scale: 2 });
    expect(clockBandLayout(64, 48)).toBeUndefined();
  });

  it('prints local time to the hundredth of a second, the hundredths starting on a macroblock edge', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5, 679).getTime() + 0.9;
    expect(clockText(t, true)).toBe('2026-01-02 03:04:05.67');
    expect(clockText(t, false)).toBe('03:04:05.67');
    for (const [w, h] of [
      [480, 270],
      [1280, 720],
      [160, 90],
    ] as const) {
      const l = clockBandLayout(w, h)!;
      const len = l.withDate ? 22 : 11;
      expect((l.textX + (len - 2) * 6 * l.scale) % 16).toBe(0);
    }
  });
});
