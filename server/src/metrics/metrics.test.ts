import { describe, expect, it } from 'vitest';
import type { RelayEngineStatus } from '../relay/engine.ts';
import { createMetrics } from './metrics.ts';
import { isLoopback } from './routes.ts';

describe('relay series from the media plane state events', () => {
  it('counts relays by state and each ffmpeg restart once; a stopped relay leaves the gauge', async () => {
    let emit: (key: string, s: RelayEngineStatus) => void = () => undefined;
    const m = createMetrics({ instance: 'test' });
    m.watchRelays({ onState: (fn) => ((emit = fn), () => undefined) });
    const at = (state: RelayEngineStatus['state'], restarts: number): RelayEngineStatus => ({
      state,
      restarts,
      reason: null,
      fps: null,
      bitrateKbps: null,
      retryInMs: null,
      dir: '',
    });
    const value = async (name: string, labels: Record<string, string> = {}) =>
      (await m.registry.getSingleMetric(name)!.get()).values.find((v) =>
        Object.entries(labels).every(([k, x]) => v.labels[k] === x),
      )?.value ?? 0;
    emit('cam1:main', at('starting', 0));
    emit('cam1:main', at('live', 0));
    emit('cam2:main', at('starting', 0));
    expect(await value('ccc_relays', { state: 'live' })).toBe(1);
    expect(await value('ccc_relays', { state: 'starting' })).toBe(1);
    emit('cam1:main', at('reconnecting', 1));
    emit('cam1:main', at('reconnecting', 1));
    emit('cam1:main', at('live', 2));
    expect(await value('ccc_relay_ffmpeg_restarts_total')).toBe(2);
    emit('cam1:main', at('stopped', 2));
    // Started anew, its supervisor counts from 0 again: no restart is counted for that.
    emit('cam1:main', at('starting', 0));
    emit('cam2:main', at('stopped', 0));
    expect(await value('ccc_relay_ffmpeg_restarts_total')).toBe(2);
    expect(await value('ccc_relays', { state: 'live' })).toBe(0);
    expect(await value('ccc_relays', { state: 'starting' })).toBe(1);
    expect(await value('ccc_relays', { state: 'stopped' })).toBe(0);
  });

  it('keeps one registry per instance: two apps in one process count apart', async () => {
    const a = createMetrics({ instance: 'a' });
    const b = createMetrics({ instance: 'b' });
    a.alertsIngested.inc({ source: 'manual', result: 'new' });
    expect(await a.registry.metrics()).toContain('ccc_alerts_ingested_total{source="manual",result="new"} 1');
    expect(await b.registry.metrics()).not.toContain('source="manual"');
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['192.0.2.2', false],
    ['::ffff:192.0.2.2', false],
    ['10.0.0.1', false],
    ['fe80::1', false],
    ['::', false],
    ['0.0.0.0', false],
    [undefined, false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});
