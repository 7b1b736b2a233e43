import type { ConfirmDeviceResponse, ScanCredentials, ScanView } from '../api/contract.ts';
import { codeOfMessage } from '../api/messages.ts';
import type { AuditLog } from '../audit/index.ts';
import type { AuthContext } from '../auth/index.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { type CameraService } from '../cameras/service.ts';
import type { AppConfig } from '../config/schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Store } from '../db/store.ts';
import type { EventBus } from '../events.ts';
import { badRequest, conflict, notFound } from '../http/errors.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { deviceText, deviceUri } from '../http/text.ts';
import { expandRange } from '../protocols/cidr.ts';
import { createOnvifClient } from '../protocols/onvif/client.ts';
import { probeMulticast, probeUnicast, type ProbeMatch } from '../protocols/ws-discovery.ts';
import { inScope } from '../org/scope.ts';
import { DEVICE_TEXT_MAX, interrogate } from './interrogate.ts';
import { deviceView, scanView, type DiscoveryRepo, type ScanJob } from './repo.ts';
import { manualXAddr, type ConfirmInput, type ScanRequestInput } from './schema.ts';

export interface DiscoveryDeps {
  /** The app's store: a confirmation's camera point, device identity and device row are one transaction. */
  store: Store;
  repo: DiscoveryRepo;
  cameras: CameraRepo;
  cameraService: CameraService;
  secrets: SecretBox;
  audit: AuditLog;
  bus: EventBus;
  config: AppConfig['discovery'];
  clock: Clock;
  log: Logger;
}

/** Runs `fn` over items with at most `n` in flight. */
async function pool<T>(
  items: readonly T[],
  n: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

function hostOf(xaddr: string): string {
  try {
    return new URL(xaddr).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}

/** One device address per endpoint, preferring the one the reply came from, then IPv4. */
function chooseXAddr(m: ProbeMatch): string {
  return m.xaddrs.find((x) => hostOf(x) === m.from) ?? m.xaddrs.find((x) => /^https?:\/\/\d/.test(x)) ?? m.xaddrs[0]!;
}

export function createDiscoveryService(deps: DiscoveryDeps) {
  const { store, repo, cameras, cameraService, secrets, audit, bus, config, clock, log } = deps;
  const running = new Map<number, AbortController>();
  // Scans left running by a previous process are failed before this process starts one (`start` waits).
  const recovered = repo.failRunning('the server restarted during the scan', clock.now().toISOString()).then(
    () => undefined,
    (err: unknown) => log.error('could not fail the scans left running', { err: String(err) }),
  );

  function plan(req: ScanRequestInput): { target: string; hosts: string[]; xaddr: string | null } {
    if (req.mode === 'unicast') {
      const hosts: string[] = [];
      const problems: { path: string; message: string }[] = [];
      req.ranges.forEach((r, i) => {
        try {
          hosts.push(...expandRange(r, config.maxHostsPerScan));
        } catch (e) {
          problems.push({ path: `ranges.${i}`, message: (e as Error).message });
        }
      });
      if (problems.length) throw badRequest(problems);
      const unique = [...new Set(hosts)];
      if (unique.length > config.maxHostsPerScan) {
        throw badRequest([
          { path: 'ranges', message: `${unique.length} addresses; at most ${config.maxHostsPerScan} per scan` },
        ]);
      }
      return { target: req.ranges.join(', '), hosts: unique, xaddr: null };
    }
    if (req.mode === 'multicast') {
      if (!config.multicastInterfaces.includes(req.interface)) {
        throw badRequest([
          {
            path: 'interface',
            message: `not a configured discovery interface (${config.multicastInterfaces.join(', ') || 'none configured'})`,
          },
        ]);
      }
      return { target: `multicast on ${req.interface}`, hosts: [], xaddr: null };
    }
    const xaddr = manualXAddr(req.address);
    if (!xaddr) throw badRequest([{ path: 'address', message: 'give host, host:port or a device service URL' }]);
    return { target: req.address, hosts: [], xaddr };
  }

  async function run(job: ScanJob, req: ScanRequestInput, hosts: string[], manual: string | null, ac: AbortController) {
    let last = 0;
    let state = job;
    // Progress is reported from the probes' synchronous callbacks: its writes run one after another in this
    // chain, and the first one that fails fails the scan (the next report throws it, as does the end of the run).
    let writes: Promise<void> = Promise.resolve();
    let writeFailed: { err: unknown } | null = null;
    const progress = (patch: Parameters<DiscoveryRepo['updateScan']>[1], force = false) => {
      if (writeFailed) throw writeFailed.err;
      state = { ...state, ...patch };
      const t = Date.now();
      if (!force && t - last < 200) return;
      last = t;
      const counts = {
        total: state.total,
        probed: state.probed,
        found: state.found,
        interrogated: state.interrogated,
        ...patch,
      };
      writes = writes.then(async () => {
        if (writeFailed) return;
        try {
          const saved = await repo.updateScan(job.id, counts);
          // The stored row (a cancel's status and end), with the counts reported while it was written.
          state = {
            ...saved,
            total: state.total,
            probed: state.probed,
            found: state.found,
            interrogated: state.interrogated,
          };
          bus.emit('scan.progress', { scan: state });
        } catch (err) {
          writeFailed = { err };
        }
      });
    };
    const found = new Map<string, { xaddr: string; endpoint: string | null; scopes: string[] }>();
    const addFound = (reported: string, reportedEndpoint: string | null, scopes: string[]) => {
      // Both come from a device's WS-Discovery reply: cleaned before they are keyed, stored or shown.
      const xaddr = deviceUri(reported, ['http:', 'https:'], 500);
      if (!xaddr) return;
      const endpoint = deviceText(reportedEndpoint, DEVICE_TEXT_MAX.endpoint);
      const key = endpoint ?? xaddr;
      if (found.has(key) || [...found.values()].some((f) => f.xaddr === xaddr)) return;
      found.set(key, { xaddr, endpoint, scopes });
      progress({ found: found.size });
    };
    const credentials: ScanCredentials[] = req.credentials;

    if (req.mode === 'unicast') {
      const targets = hosts.flatMap((host) => req.wsdPorts.map((port) => ({ host, port })));
      let sent = 0;
      await probeUnicast(targets, {
        timeoutMs: config.probeTimeoutMs,
        ratePerSecond: config.probeRatePerSecond,
        signal: ac.signal,
        retries: 1,
        onSent: (n) => {
          sent = n;
          progress({ probed: n });
        },
        onMatch: (m) => addFound(chooseXAddr(m), m.endpoint, m.scopes),
        onBadReply: (from, reason) => log.debug('bad WS-Discovery reply', { from, reason }),
      });
      progress({ probed: sent }, true);
      if (req.httpPorts.length && !ac.signal.aborted) {
        // Devices that ignore WS-Discovery: ask each silent host for its clock directly.
        const answered = new Set([...found.values()].map((f) => hostOf(f.xaddr)));
        const direct = hosts
          .filter((h) => !answered.has(h))
          .flatMap((h) => req.httpPorts.map((p) => `http://${h}${p === 80 ? '' : `:${p}`}/onvif/device_service`));
        progress({ total: targets.length + direct.length }, true);
        let probed = sent;
        await pool(direct, config.concurrency * 4, ac.signal, async (xaddr) => {
          try {
            await createOnvifClient({
              xaddr,
              timeoutMs: config.probeTimeoutMs,
              signal: ac.signal,
            }).getSystemDateAndTime();
            addFound(xaddr, null, []);
          } catch {
            // silence or not ONVIF: nothing to record for a host that never answered
          }
          progress({ probed: ++probed });
        });
      }
    } else if (req.mode === 'multicast') {
      await probeMulticast(req.interface, {
        timeoutMs: config.probeTimeoutMs,
        signal: ac.signal,
        onMatch: (m) => addFound(chooseXAddr(m), m.endpoint, m.scopes),
      });
      progress({ probed: 1 }, true);
    } else if (manual) {
      addFound(manual, null, []);
      progress({ probed: 1 }, true);
    }

    let interrogated = 0;
    await pool([...found.values()], config.concurrency, ac.signal, async (f) => {
      const r = await interrogate(f.xaddr, credentials, {
        timeoutMs: config.deviceTimeoutMs,
        signal: ac.signal,
        scopes: f.scopes,
        rebaseStreamHosts: config.rebaseStreamHosts,
      });
      if (ac.signal.aborted) return;
      let status: typeof r.status | 'registered' = r.status;
      let reason = r.reason;
      let cameraId: number | null = null;
      if (r.status === 'new' || r.status === 'auth_failed') {
        // Identity: endpoint reference, then MAC, then serial with make and model (issue 12).
        const same = await cameras.findSameDevice({
          endpoint: f.endpoint,
          serial: r.serial,
          mac: r.mac,
          manufacturer: r.manufacturer,
          model: r.model,
          onvifUrl: f.xaddr,
        });
        if (same !== undefined) {
          status = 'registered';
          const point = await cameras.byId({ orgUnitId: job.orgUnitId, path: job.orgPath }, same);
          cameraId = point ? point.id : null;
          // Out of the scan's jurisdiction: the device is shown as registered (it cannot be
          // registered twice) but neither linked nor named, and not said to be elsewhere; the
          // registry answers the same for a duplicate code (issue 11).
          reason = point ? `already registered as "${point.name}"` : 'already registered';
        }
      }
      const device = await repo.addDevice({
        scanId: job.id,
        endpoint: f.endpoint,
        xaddr: f.xaddr,
        host: hostOf(f.xaddr),
        status,
        reason,
        manufacturer: r.manufacturer,
        model: r.model,
        firmware: r.firmware,
        serial: r.serial,
        mac: r.mac,
        profiles: r.profiles,
        mainStreamUri: r.mainStreamUri,
        subStreamUri: r.subStreamUri,
        snapshotUri: r.snapshotUri,
        ptz: r.ptz,
        clockOffsetMs: r.clockOffsetMs,
        credentialsSealed: r.credentials ? secrets.seal(JSON.stringify(r.credentials)) : null,
        cameraId,
        reportedUris: r.reportedUris ?? null,
      });
      bus.emit('scan.device', { device, orgPath: job.orgPath });
      progress({ interrogated: ++interrogated });
    });
    await writes;
    if (writeFailed) throw (writeFailed as { err: unknown }).err;
    // Final counts are written with the status, whatever the throttle held back.
    return {
      status: ac.signal.aborted ? ('cancelled' as const) : ('done' as const),
      counts: { total: state.total, probed: state.probed, found: state.found, interrogated: state.interrogated },
    };
  }

  return {
    async start(ctx: AuthContext, ip: string | null, req: ScanRequestInput): Promise<ScanView> {
      const p = plan(req);
      const total = req.mode === 'unicast' ? p.hosts.length * req.wsdPorts.length : 1;
      await recovered;
      const job = await repo.createScan({
        orgUnitId: ctx.orgUnit.id,
        orgPath: ctx.orgUnit.path,
        createdBy: ctx.user.id,
        mode: req.mode,
        target: p.target,
        total,
      });
      await audit.record({
        actor: actorOf(ctx, ip),
        action: 'discovery.scan',
        targetType: 'scan',
        targetId: job.id,
        outcome: 'ok',
        detail: { mode: req.mode, target: p.target, hosts: p.hosts.length },
      });
      const ac = new AbortController();
      running.set(job.id, ac);
      void run(job, req, p.hosts, p.xaddr, ac)
        .then(async ({ status, counts }) => {
          const done = await repo.updateScan(job.id, { ...counts, status, finishedAt: clock.now().toISOString() });
          bus.emit('scan.progress', { scan: done });
        })
        .catch(async (err: unknown) => {
          log.error('scan failed', { scanId: job.id, err: String(err) });
          const failed = await repo.updateScan(job.id, {
            status: 'failed',
            error: String(err).slice(0, 300),
            finishedAt: clock.now().toISOString(),
          });
          bus.emit('scan.progress', { scan: failed });
        })
        .catch((err: unknown) => log.error('scan end not stored', { scanId: job.id, err: String(err) }))
        .finally(() => running.delete(job.id));
      bus.emit('scan.progress', { scan: job });
      return scanView(job);
    },

    async cancel(ctx: AuthContext, id: number): Promise<ScanView> {
      const job = await repo.scan(ctx.scope, id);
      if (!job) throw notFound('scan');
      const ac = running.get(id);
      if (!ac) return scanView(job);
      ac.abort();
      // Say so at once; the runner writes the final counts when its sockets have closed.
      const cancelled = await repo.updateScan(id, { status: 'cancelled', finishedAt: clock.now().toISOString() });
      bus.emit('scan.progress', { scan: cancelled });
      return scanView(cancelled);
    },

    settings: () => ({ multicastInterfaces: config.multicastInterfaces, maxHostsPerScan: config.maxHostsPerScan }),

    list: async (ctx: AuthContext) => (await repo.scans(ctx.scope, 50)).map(scanView),

    async get(ctx: AuthContext, id: number) {
      const job = await repo.scan(ctx.scope, id);
      if (!job) throw notFound('scan');
      return { scan: scanView(job), devices: (await repo.devices(id)).map(deviceView) };
    },

    async confirm(
      ctx: AuthContext,
      ip: string | null,
      deviceId: number,
      body: ConfirmInput,
    ): Promise<ConfirmDeviceResponse> {
      const d = await repo.device(deviceId);
      if (!d || !inScope(ctx.scope, d.orgPath)) throw notFound('discovered device');
      if (d.status !== 'new') {
        throw conflict(
          d.status === 'registered' || d.status === 'confirmed'
            ? 'device: already registered as a camera point'
            : `device: cannot be confirmed while ${d.status.replace('_', ' ')}; scan it again`,
          [{ path: 'device', message: d.status }],
        );
      }
      const sameDevice = {
        endpoint: d.endpoint,
        serial: d.serial,
        mac: d.mac,
        manufacturer: d.manufacturer,
        model: d.model,
        onvifUrl: d.xaddr,
      };
      // Inside: the camera registry's calls and this store's own (they await only the store); nothing else.
      // The same-device check is in it too, so two confirms of one device cannot both register it.
      return await store.transaction(async () => {
        // A device's identity has several keys (endpoint reference, MAC, serial, address): one confirm at a time.
        await store.lock('discovery.confirm');
        if ((await cameras.findSameDevice(sameDevice)) !== undefined) {
          throw conflict('device: already registered as a camera point', [{ path: 'device', message: 'registered' }]);
        }
        const creds = d.credentialsSealed ? (JSON.parse(secrets.open(d.credentialsSealed)) as ScanCredentials) : null;
        const view = await cameraService.create(ctx, ip, {
          ...body,
          onvifUrl: deviceUri(d.xaddr, ['http:', 'https:']),
          mainStreamUri: deviceUri(d.mainStreamUri, ['rtsp:', 'rtsps:']),
          subStreamUri: deviceUri(d.subStreamUri, ['rtsp:', 'rtsps:']),
          ptz: d.ptz,
          ...(creds ? { credentials: creds } : {}),
        });
        // Cleaned again on the way into the point: a device row stored before the text policy
        // may still hold a raw reply.
        const identity = {
          manufacturer: deviceText(d.manufacturer, DEVICE_TEXT_MAX.identity),
          model: deviceText(d.model, DEVICE_TEXT_MAX.identity),
          serial: deviceText(d.serial, DEVICE_TEXT_MAX.identity),
          mac: d.mac !== null && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(d.mac) ? d.mac : null,
        };
        await cameras.setDevice(view.id, { ...identity, endpoint: deviceText(d.endpoint, DEVICE_TEXT_MAX.endpoint) });
        if (!(await repo.markConfirmed(deviceId, view.id)))
          throw conflict('device: confirmed by someone else meanwhile', [{ path: 'device', message: 'confirmed' }]);
        await audit.record({
          actor: actorOf(ctx, ip),
          action: 'discovery.confirm',
          targetType: 'camera',
          targetId: view.id,
          outcome: 'ok',
          detail: { deviceId, xaddr: d.xaddr, ...(d.reportedUris ? { reportedUris: d.reportedUris } : {}) },
        });
        // A stream host other than the device's address is said on confirm (issue 12), whether it was
        // rebased (the point plays from the address that answered) or kept (the platform may not reach it).
        const hostNote = (d.reason ?? '').split('; ').find((p) => /^the device reports its streams at /.test(p));
        const warnings = hostNote ? [{ message: hostNote, ...(codeOfMessage(hostNote) ?? {}) }] : [];
        return { ...view, device: identity, ...(warnings.length ? { warnings } : {}) };
      });
    },

    stopAll() {
      for (const ac of running.values()) ac.abort();
    },
  };
}

export type DiscoveryService = ReturnType<typeof createDiscoveryService>;
export { deviceView, scanView };
