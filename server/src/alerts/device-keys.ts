import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/index.ts';
import { createSharedCounters, type SharedCounters } from '../cluster/rate-windows.ts';
import type { AppConfig } from '../config/schema.ts';
import { HttpError } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import type { AlertRepo, AlertSource } from './repo.ts';

export const hashDeviceKey = (key: string) => createHash('sha256').update(key).digest('hex');

const MINUTE = 60_000;

const tooMany = (message: string, resetInMs: number) => {
  const wait = Math.max(1, Math.ceil(resetInMs / 1000));
  return new HttpError(429, 'rate_limited', `${message}; retry in ${wait} s`, undefined, {
    'Retry-After': String(wait),
  });
};

/**
 * The door of POST /alerts/ingest: which source a device key belongs to, and
 * how often each source and each client address may knock. The counts are
 * per minute and shared by every instance through Redis when it is
 * configured (issue 13), else (and while Redis is down) kept in this process.
 */
export function createDeviceGate(deps: {
  repo: AlertRepo;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: Pick<AppConfig['alerts'], 'wrongKeyAttemptsPerMinute'>;
  /** Where the counts live; memory when absent. */
  counters?: SharedCounters;
}) {
  const { repo, audit, clock, log, config } = deps;
  const counters = deps.counters ?? createSharedCounters({ redisUrl: null, keyPrefix: '', clock, log });
  const perSource = counters.counter('ingest.source', MINUTE);
  const wrongKeys = counters.counter('ingest.wrong-key', MINUTE);

  return {
    /**
     * The source a device key belongs to. Wrong or missing keys are counted
     * per client address and minute: past `wrongKeyAttemptsPerMinute` the
     * address is answered 429 whatever key it sends (a guess that happens to
     * be right is not told so), and only the first failure of each address
     * and minute is audited, so guessing cannot grow the audit log (issue 11).
     */
    async source(key: string | undefined, ip: string | null): Promise<AlertSource> {
      const address = ip ?? 'unknown';
      const limit = config.wrongKeyAttemptsPerMinute;
      if ((await wrongKeys.peek(address)).count >= limit) {
        // Throttled attempts count too: the first one past the limit is logged, once.
        const c = await wrongKeys.hit(address);
        if (c.count === limit + 1) log.warn('device key attempts throttled', { ip: address, perMinute: limit });
        throw tooMany('too many wrong device keys from this address', c.resetInMs);
      }
      const source = key ? await repo.sourceByKeyHash(hashDeviceKey(key)) : undefined;
      if (source) return source;
      if ((await wrongKeys.hit(address)).count === 1)
        await audit.record({
          actor: { userId: null, username: null, ip },
          action: 'alert.ingest',
          outcome: 'denied',
          detail: { reason: key ? 'wrong_key' : 'no_key', sample: 'first failure from this address this minute' },
        });
      throw new HttpError(401, 'bad_device_key', 'X-Device-Key is missing or wrong');
    },
    /** The source's own alerts-per-minute limit. */
    async rateLimit(source: AlertSource): Promise<void> {
      const c = await perSource.hit(String(source.id));
      if (c.count > source.rateLimitPerMinute)
        throw tooMany(`source ${source.name} exceeds ${source.rateLimitPerMinute} alerts per minute`, c.resetInMs);
    },
  };
}
