import { describe, expect, it } from 'vitest';
import { windowAt } from './windows.ts';

const at = (iso: string) => Date.parse(iso);
const UTC8 = 480;

describe('scheduled windows in local time', () => {
  it('finds the night window in UTC+8 and its end', () => {
    const w = [{ from: '01:00', to: '05:00' }];
    // 02:30 in Beijing is 18:30 UTC the day before.
    expect(windowAt(at('2026-11-30T18:30:00Z'), UTC8, w)).toEqual({
      localDate: '2026-12-01',
      endsAt: at('2026-11-30T21:00:00Z'),
    });
    expect(windowAt(at('2026-11-30T21:00:00Z'), UTC8, w)).toBeNull();
    expect(windowAt(at('2026-11-30T16:59:59Z'), UTC8, w)).toBeNull();
  });

  it('runs a window over midnight on the day it started', () => {
    const w = [{ from: '22:00', to: '04:00' }];
    expect(windowAt(at('2026-12-01T15:00:00Z'), UTC8, w)).toEqual({
      localDate: '2026-12-01',
      endsAt: at('2026-12-01T20:00:00Z'),
    });
    expect(windowAt(at('2026-12-01T19:00:00Z'), UTC8, w)).toEqual({
      localDate: '2026-12-01',
      endsAt: at('2026-12-01T20:00:00Z'),
    });
    expect(windowAt(at('2026-12-01T21:00:00Z'), UTC8, w)).toBeNull();
  });

  it('takes the whole day as 00:00–24:00, and no window as never', () => {
    expect(windowAt(at('2026-12-01T10:00:00Z'), UTC8, [{ from: '00:00', to: '24:00' }])?.localDate).toBe('2026-12-01');
    expect(windowAt(at('2026-12-01T10:00:00Z'), UTC8, [])).toBeNull();
  });
});
