import { describe, expect, it } from 'vitest';
import { localDate, nextPeriod, percentile, periodRange, periodStart } from './stats.ts';

describe('periods in local time (UTC+8)', () => {
  it('cuts days at local midnight', () => {
    expect(localDate(Date.parse('2026-03-01T15:59:59Z'), 480)).toBe('2026-03-01');
    expect(localDate(Date.parse('2026-03-01T16:00:00Z'), 480)).toBe('2026-03-02');
  });
  it('starts weeks on Monday, months on the 1st, quarters on Jan/Apr/Jul/Oct 1st', () => {
    expect(periodStart('2026-11-22', 'week')).toBe('2026-11-16'); // a Sunday
    expect(periodStart('2026-11-16', 'week')).toBe('2026-11-16');
    expect(periodStart('2026-11-22', 'month')).toBe('2026-11-01');
    expect(periodStart('2026-11-22', 'quarter')).toBe('2026-10-01');
    expect(periodStart('2026-03-31', 'quarter')).toBe('2026-01-01');
    expect(nextPeriod('2026-12-01', 'month')).toBe('2027-01-01');
    expect(nextPeriod('2026-10-01', 'quarter')).toBe('2027-01-01');
    expect(nextPeriod('2024-02-28', 'day')).toBe('2024-02-29');
  });
  it('widens a range to whole periods and gives its instants in UTC', () => {
    const r = periodRange('month', 480, new Date('2026-11-22T00:00:00Z'), '2026-01-15', '2026-03-02');
    expect(r).toMatchObject({
      ok: true,
      from: '2026-01-01',
      to: '2026-04-01',
      fromIso: '2025-12-31T16:00:00.000Z',
      toIso: '2026-03-31T16:00:00.000Z',
      buckets: 3,
      starts: ['2026-01-01', '2026-02-01', '2026-03-01'],
    });
    const last12 = periodRange('month', 480, new Date('2026-11-22T00:00:00Z'));
    expect(last12).toMatchObject({ ok: true, from: '2025-12-01', buckets: 12 });
  });
  it('rejects impossible dates and reversed ranges, naming the field', () => {
    expect(periodRange('day', 480, new Date(), '2026-02-30')).toMatchObject({ ok: false, field: 'from' });
    expect(periodRange('day', 480, new Date(), '2026-03-02', '2026-03-01')).toMatchObject({ ok: false, field: 'from' });
    expect(periodRange('day', 480, new Date(), undefined, '2026-13-01')).toMatchObject({ ok: false, field: 'to' });
  });
});

describe('percentile (nearest rank)', () => {
  it('matches hand-computed values', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile([42], 90)).toBe(42);
    expect(percentile([], 90)).toBeNull();
  });
});
