import { describe, expect, it } from 'vitest';
import { expandRange } from './cidr.ts';

describe('expandRange', () => {
  it('expands blocks without network and broadcast addresses', () => {
    expect(expandRange('127.0.1.0/30', 10)).toEqual(['127.0.1.1', '127.0.1.2']);
    expect(expandRange('127.0.1.5/32', 10)).toEqual(['127.0.1.5']);
    expect(expandRange('127.0.1.250-127.0.2.1', 10)).toEqual([
      '127.0.1.250',
      '127.0.1.251',
      '127.0.1.252',
      '127.0.1.253',
      '127.0.1.254',
      '127.0.1.255',
      '127.0.2.0',
      '127.0.2.1',
    ]);
  });
  it.each([
    ['10.0.0.0/4', /between \/8 and \/32/],
    ['10.0.0.0/16', /at most 1024/],
    ['300.1.1.1', /not an IPv4/],
    ['10.0.0.9-10.0.0.1', /ends before/],
    ['example.com', /not an IPv4/],
  ])('refuses %s', (spec, msg) => {
    expect(() => expandRange(spec, 1024)).toThrow(msg);
  });
});
