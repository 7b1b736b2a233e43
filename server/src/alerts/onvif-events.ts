import type { ClusterLease } from '../cluster/index.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Logger } from '../http/logger.ts';
import { createOnvifClient, type OnvifClient } from '../protocols/onvif/client.ts';
import type { OnvifEvent } from '../protocols/onvif/events.ts';
import type { AlertRepo, EventTarget } from './repo.ts';
import type { AlertService } from './service.ts';

/** Subscription lifetime asked of the device; renewed at half of it. */
const TERMINATION_SEC = 60;
/** Longest PullMessages wait; devices cap it themselves (often 10–60 s). */
const PULL_TIMEOUT_SEC = 10;
const MESSAGE_LIMIT = 32;
const MAX_BACKOFF_MS = 60_000;
const RECONCILE_MS = 60_000;

export interface OnvifEventSourceDeps {
  repo: Pick<AlertRepo, 'eventTargets'>;
  alerts: Pick<AlertService, 'cameraEvent' | 'onEventWatchChange'>;
  secrets: SecretBox;
  log: Logger;
  config: { enabled: boolean; maxSubscriptions: number };
  /** The device client; a test may hand in its own. */
  makeClient?: (opts: Parameters<typeof createOnvifClient>[0]) => OnvifClient;
  /**
   * Several instances on one database: only the holder subscribes (two would turn each motion into two
   * alerts and use up the cameras' few pull points); another takes over when it dies (issue 13).
   */
  lease?: ClusterLease;
}

/**
 * Keeps one ONVIF PullPoint subscription per marked point and turns motion
 * and tamper into alerts. Each point runs its own loop: subscribe, pull,
 * renew at half-life, and on any failure unsubscribe (best effort), back off
 * and subscribe again. A dead camera costs only its own loop.
 */
export function createOnvifEventSource(deps: OnvifEventSourceDeps) {
  const make = deps.makeClient ?? createOnvifClient;
  const running = new Map<string, { cameraId: number; stop: AbortController; done: Promise<void> }>();
  let timer: NodeJS.Timeout | null = null;
  let offWatch: (() => void) | null = null;
  let offLease: (() => void) | null = null;
  let stopped = true;

  const keyOf = (t: EventTarget) => `${t.cameraId}|${t.onvifUrl}|${t.credentialsSealed}`;

  function handle(cameraId: number, e: OnvifEvent) {
    if (!e.state) return;
    // Initialized reports the state at subscribe time: a motion that was on
    // then is stale, but a camera that is still covered is news.
    if (e.operation === 'Initialized' && e.kind === 'motion') return;
    if (e.operation === 'Deleted') return;
    deps.alerts
      .cameraEvent({ cameraId, kind: e.kind, deviceTime: e.utcTime, topic: e.topic })
      .catch((err: unknown) => deps.log.error('onvif event not stored', { cameraId, err: String(err) }));
  }

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });

  async function loop(t: EventTarget, signal: AbortSignal) {
    let creds: { username: string; password: string };
    try {
      creds = JSON.parse(deps.secrets.open(t.credentialsSealed)) as { username: string; password: string };
    } catch {
      deps.log.warn('onvif events: credentials cannot be opened', { cameraId: t.cameraId });
      return;
    }
    let backoff = 1000;
    while (!signal.aborted) {
      const client = make({ xaddr: t.onvifUrl, credentials: creds, timeoutMs: 5000, signal });
      let address: string | null = null;
      try {
        // Digest timestamps follow the device clock.
        await client.getSystemDateAndTime().catch(() => undefined);
        address = (await client.createPullPointSubscription(TERMINATION_SEC)).address;
        let renewAt = Date.now() + (TERMINATION_SEC * 1000) / 2;
        while (!signal.aborted) {
          if (Date.now() >= renewAt) {
            await client.renew(address, TERMINATION_SEC);
            renewAt = Date.now() + (TERMINATION_SEC * 1000) / 2;
          }
          const r = await client.pullMessages(address, PULL_TIMEOUT_SEC, MESSAGE_LIMIT);
          backoff = 1000;
          for (const e of r.events) handle(t.cameraId, e);
        }
      } catch (err) {
        if (signal.aborted) break;
        deps.log.warn('onvif events: subscription failed; retrying', {
          cameraId: t.cameraId,
          err: String(err).slice(0, 200),
          retryMs: backoff,
        });
      } finally {
        // Free the device's pull point (cameras allow only a few) with a client that is not aborted.
        if (address) {
          await make({ xaddr: t.onvifUrl, credentials: creds, timeoutMs: 2000 })
            .unsubscribe(address)
            .catch(() => undefined);
        }
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** One pass at a time: a pass reads the marked points, then starts and stops loops to match. */
  let passes: Promise<void> = Promise.resolve();
  function reconcile(): Promise<void> {
    passes = passes
      .then(reconcileNow)
      .catch((err: unknown) => deps.log.warn('onvif event subscriptions: reconcile failed', { err: String(err) }));
    return passes;
  }

  async function reconcileNow() {
    if (stopped) return;
    const mine = !deps.lease || deps.lease.held();
    const targets = mine ? await deps.repo.eventTargets(deps.config.maxSubscriptions) : [];
    if (stopped) return;
    const wanted = new Map(targets.map((t) => [keyOf(t), t]));
    for (const [key, r] of running)
      if (!wanted.has(key)) {
        r.stop.abort();
        running.delete(key);
      }
    for (const [key, t] of wanted) {
      if (running.has(key)) continue;
      const stop = new AbortController();
      running.set(key, { cameraId: t.cameraId, stop, done: loop(t, stop.signal) });
    }
  }

  return {
    start() {
      if (!deps.config.enabled || !stopped) return;
      stopped = false;
      offWatch = deps.alerts.onEventWatchChange(() => void reconcile());
      if (deps.lease) {
        offLease = deps.lease.onChange(() => void reconcile());
        deps.lease.start();
      }
      void reconcile();
      // Also catches edits to a point's address or credentials.
      timer = setInterval(() => void reconcile(), RECONCILE_MS);
      timer.unref();
    },
    /** Points with a live loop (subscribed or retrying). */
    active(): number[] {
      return [...running.values()].map((r) => r.cameraId);
    },
    reconcile,
    async stop() {
      stopped = true;
      offWatch?.();
      offLease?.();
      if (timer) clearInterval(timer);
      await passes;
      const all = [...running.values()];
      running.clear();
      for (const r of all) r.stop.abort();
      await Promise.all(all.map((r) => r.done));
      // Given up only once this instance's subscriptions are gone, so the next holder's do not overlap them.
      await deps.lease?.stop();
    },
  };
}

export type OnvifEventSource = ReturnType<typeof createOnvifEventSource>;
