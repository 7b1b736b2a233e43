import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/index.ts';
import type { AppConfig } from '../config/schema.ts';
import { HttpError } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { AlertRepo, AlertSource } from './repo.ts';

export const hashDeviceKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Client addresses whose wrong-key attempts are counted at once: addresses are the caller's to choose. */
const MAX_TRACKED_ADDRESSES = 10_000;
const MINUTE = 60_000;

interface Window {
  start: number;
  n: number;
}

const tooMany = (message: string, wait: number) =>
  new HttpError(429, 'rate_limited', `${message}; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });

/**
 * The door of POST /alerts/ingest: which source a device key belongs to, and
 * how often each source and each client address may knock.
 */
export function createDeviceGate(deps: {
  repo: AlertRepo;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: Pick<AppConfig['alerts'], 'wrongKeyAttemptsPerMinute'>;
}) {
  const { repo, audit, clock, log, config } = deps;
  const perSource = new Map<number, Window>();
  const failures = new Map<string, Window>();

  /** Bounds the failure table: drop finished minutes, then the oldest (a Map keeps insertion order). */
  function forgetOldFailures(nowMs: number) {
    if (failures.size <= MAX_TRACKED_ADDRESSES) return;
    for (const [address, w] of failures) if (nowMs - w.start >= MINUTE) failures.delete(address);
    for (const address of failures.keys()) {
      if (failures.size <= MAX_TRACKED_ADDRESSES) break;
      failures.delete(address);
    }
  }

  return {
    /**
     * The source a device key belongs to. Wrong or missing keys are counted
     * per client address and minute: past `wrongKeyAttemptsPerMinute` the
     * address is answered 429 whatever key it sends (a guess that happens to
     * be right is not told so), and only the first failure of each address
     * and minute is audited, so guessing cannot grow the audit log (issue 11).
     */
    source(key: string | undefined, ip: string | null): AlertSource {
      const address = ip ?? 'unknown';
      const nowMs = clock.now().getTime();
      let f = failures.get(address);
      if (f && nowMs - f.start >= MINUTE) {
        failures.delete(address);
        f = undefined;
      }
      const limit = config.wrongKeyAttemptsPerMinute;
      if (f && f.n >= limit) {
        if (f.n++ === limit) log.warn('device key attempts throttled', { ip: address, perMinute: limit });
        throw tooMany(
          'too many wrong device keys from this address',
          Math.max(1, Math.ceil((f.start + MINUTE - nowMs) / 1000)),
        );
      }
      const source = key ? repo.sourceByKeyHash(hashDeviceKey(key)) : undefined;
      if (source) return source;
      if (!f) {
        f = { start: nowMs, n: 0 };
        failures.set(address, f);
        forgetOldFailures(nowMs);
      }
      if (f.n++ === 0)
        audit.record({
          actor: { userId: null, username: null, ip },
          action: 'alert.ingest',
          outcome: 'denied',
          detail: { reason: key ? 'wrong_key' : 'no_key', sample: 'first failure from this address this minute' },
        });
      throw new HttpError(401, 'bad_device_key', 'X-Device-Key is missing or wrong');
    },
    /** The source's own alerts-per-minute limit. */
    rateLimit(source: AlertSource): void {
      const nowMs = clock.now().getTime();
      let w = perSource.get(source.id);
      if (!w || nowMs - w.start >= MINUTE) {
        w = { start: nowMs, n: 0 };
        perSource.set(source.id, w);
      }
      if (w.n >= source.rateLimitPerMinute)
        throw tooMany(
          `source ${source.name} exceeds ${source.rateLimitPerMinute} alerts per minute`,
          Math.max(1, Math.ceil((w.start + MINUTE - nowMs) / 1000)),
        );
      w.n++;
    },
  };
}
