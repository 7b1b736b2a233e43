import { connect, type MqttClient } from 'mqtt';
import type { AppConfig } from '../config/schema.ts';
import type { Logger } from '../http/logger.ts';
import type { AlertService } from './service.ts';

type Mapping = AppConfig['alerts']['mqtt']['topics'][number];

/** MQTT topic filter matching (MQTT 3.1.1 §4.7): + is one level, # the rest. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return !(i === 0 && topic.startsWith('$'));
    if (i >= t.length) return false;
    if (f[i] === '+') {
      if (i === 0 && topic.startsWith('$')) return false;
      continue;
    }
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export interface MqttAlertSourceDeps {
  config: AppConfig['alerts']['mqtt'];
  maxBodyBytes: number;
  alerts: Pick<AlertService, 'ingestMqtt'>;
  log: Logger;
  /** The client factory; the real `mqtt.connect` unless a test hands in another. */
  connect?: typeof connect;
}

/**
 * Subscribes to the configured topics and hands each message to the same
 * ingestion path as REST. A broker that is down costs only this source: the
 * client reconnects by itself and re-subscribes (clean session, QoS 1).
 */
export function createMqttAlertSource(deps: MqttAlertSourceDeps) {
  let client: MqttClient | null = null;
  let dropped = 0;

  function onMessage(topic: string, payload: Buffer) {
    const mapping: Mapping | undefined = deps.config.topics.find((m) => topicMatches(m.topic, topic));
    if (!mapping) return;
    const drop = (reason: string) => {
      dropped++;
      // One line per message would let a misbehaving publisher flood the log.
      if (dropped <= 10 || dropped % 1000 === 0) deps.log.warn('mqtt alert dropped', { topic, reason, dropped });
    };
    if (payload.length > deps.maxBodyBytes) return drop(`larger than ${deps.maxBodyBytes} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return drop('malformed JSON');
    }
    deps.alerts.ingestMqtt(mapping, body).then(
      (r) => {
        if (!r.ok) drop(r.reason);
      },
      (err: unknown) => drop(`not stored: ${String(err)}`),
    );
  }

  return {
    start() {
      const { url, topics } = deps.config;
      if (!url || topics.length === 0 || client) return;
      client = (deps.connect ?? connect)(url, {
        clean: true,
        reconnectPeriod: 2000,
        connectTimeout: 5000,
        clientId: `ccc-alerts-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      });
      client.on('connect', () => {
        client?.subscribe(
          topics.map((t) => t.topic),
          { qos: 1 },
          (err) => {
            if (err) deps.log.error('mqtt subscribe failed', { err: String(err) });
          },
        );
      });
      client.on('message', onMessage);
      client.on('error', (err) => deps.log.warn('mqtt error', { err: String(err) }));
    },
    /** Messages turned away since start (invalid, oversized, rate limited). */
    get dropped() {
      return dropped;
    },
    async stop() {
      const c = client;
      client = null;
      if (c) await c.endAsync(true);
    },
  };
}

export type MqttAlertSource = ReturnType<typeof createMqttAlertSource>;
