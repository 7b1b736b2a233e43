/**
 * 设备发现 — the technician's discovery console: start a scan (address ranges
 * by unicast, the local segment by multicast, or one address), watch it
 * progress live, review what each device said about itself, and confirm new
 * devices into camera points.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type {
  CameraPointView,
  DeviceStatus,
  DiscoveredDeviceView,
  ScanView,
  ServerToClientEvents,
} from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n, type Lang, type Translate } from '../i18n.tsx';
import { serverText } from '../serverMessages.ts';
import { useRealtime } from '../realtime.tsx';
import { navigate, pathOf } from '../router.ts';
import { ConfirmDeviceDialog } from './ConfirmDeviceDialog.tsx';
import { clockIsOff, formatOffset, mainAndSub, makeAndModel, profileSummary } from './deviceFormat.ts';
import { ScanForm } from './ScanForm.tsx';

/**
 * A device's reason in the console's language (issue 17): each part by its
 * code; a part the console does not know reads by the device's status, and
 * the device's own words stay in the cell's tooltip.
 */
function deviceReason(lang: Lang, t: Translate, device: DiscoveredDeviceView): string {
  const parts = device.reasonParts?.length ? device.reasonParts : [{ text: device.reason ?? '' }];
  return parts
    .map((p) => serverText(lang, p) ?? t(`deviceStatus.${device.status}`))
    .filter((s, i, all) => all.indexOf(s) === i)
    .join(t('err.separator'));
}
import { useReferenceData } from './useReferenceData.ts';

interface CurrentScan {
  scan: ScanView;
  devices: DiscoveredDeviceView[];
}

/** Of two views of the same scan, the one further along (events and fetches can cross). */
function laterScan(a: ScanView, b: ScanView): ScanView {
  const rank = (s: ScanView) => [s.status === 'running' ? 0 : 1, s.interrogated, s.probed, s.found, s.total];
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) {
    if ((ra[i] ?? 0) !== (rb[i] ?? 0)) return (ra[i] ?? 0) > (rb[i] ?? 0) ? a : b;
  }
  return b;
}

function upsertScan(list: readonly ScanView[], scan: ScanView): ScanView[] {
  const index = list.findIndex((s) => s.id === scan.id);
  if (index === -1) return [scan, ...list].sort((a, b) => b.id - a.id);
  const existing = list[index];
  const next = [...list];
  next[index] = existing ? laterScan(existing, scan) : scan;
  return next;
}

/** Devices are written once and only change by confirmation, so a union by id loses nothing. */
function mergeDevices(a: readonly DiscoveredDeviceView[], b: readonly DiscoveredDeviceView[]): DiscoveredDeviceView[] {
  const byId = new Map<number, DiscoveredDeviceView>();
  for (const d of [...a, ...b]) {
    const prev = byId.get(d.id);
    // A confirmation is final: never let an older copy undo it.
    byId.set(d.id, prev?.status === 'confirmed' ? prev : d);
  }
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

const ratio = (n: number, of: number) => (of > 0 ? Math.min(1, n / of) : 0);

export function DiscoveryPage({ scanId: currentId }: { scanId: number | null }) {
  const { t } = useI18n();
  const { socket } = useRealtime();
  const refs = useReferenceData();
  const [scans, setScans] = useState<ScanView[]>([]);
  const [scansError, setScansError] = useState<unknown>(null);
  const [loaded, setCurrent] = useState<CurrentScan | null>(null);
  // After back/forward the loaded scan may be another one until the fetch answers.
  const current = loaded && loaded.scan.id === currentId ? loaded : null;
  const [currentError, setCurrentError] = useState<unknown>(null);
  const [reloadToken, setReloadToken] = useState(0);
  const [cancelling, setCancelling] = useState(false);
  const [confirming, setConfirming] = useState<DiscoveredDeviceView | null>(null);
  const [confirmed, setConfirmed] = useState<CameraPointView | null>(null);

  const reloadCurrent = useCallback(() => setReloadToken((n) => n + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    api.scans(controller.signal).then(
      (list) => {
        setScans((prev) => list.reduce(upsertScan, prev));
        setScansError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setScansError(err);
      },
    );
    return () => controller.abort();
  }, [reloadToken]);

  useEffect(() => {
    if (currentId === null) return;
    const controller = new AbortController();
    setCurrentError(null);
    api.scan(currentId, controller.signal).then(
      ({ scan, devices }) => {
        setCurrent((prev) =>
          prev && prev.scan.id === scan.id
            ? { scan: laterScan(prev.scan, scan), devices: mergeDevices(prev.devices, devices) }
            : { scan, devices },
        );
        setScans((prev) => upsertScan(prev, scan));
      },
      (err: unknown) => {
        if (!isAbort(err)) setCurrentError(err);
      },
    );
    return () => controller.abort();
  }, [currentId, reloadToken]);

  useEffect(() => {
    if (!socket) return;
    const onProgress: ServerToClientEvents['scan:progress'] = (scan) => {
      setScans((prev) => upsertScan(prev, scan));
      setCurrent((prev) => {
        if (!prev || prev.scan.id !== scan.id) return prev;
        const next = laterScan(prev.scan, scan);
        return next === prev.scan ? prev : { ...prev, scan: next };
      });
    };
    const onDevice: ServerToClientEvents['scan:device'] = (device) => {
      setCurrent((prev) =>
        prev && prev.scan.id === device.scanId ? { ...prev, devices: mergeDevices(prev.devices, [device]) } : prev,
      );
    };
    socket.on('scan:progress', onProgress);
    socket.on('scan:device', onDevice);
    // After a reconnect the events in between are lost: fetch the state again.
    socket.on('connect', reloadCurrent);
    socket.on('realtime:resync', reloadCurrent);
    return () => {
      socket.off('scan:progress', onProgress);
      socket.off('scan:device', onDevice);
      socket.off('connect', reloadCurrent);
      socket.off('realtime:resync', reloadCurrent);
    };
  }, [socket, reloadCurrent]);

  // When a scan being watched ends, fetch it once more: the device list is then complete
  // even if an event was missed.
  const currentStatus = current?.scan.status;
  const currentScanId = current?.scan.id;
  const watched = useRef<{ id: number; status: ScanView['status'] } | null>(null);
  useEffect(() => {
    const prev = watched.current;
    watched.current =
      currentScanId === undefined || !currentStatus ? null : { id: currentScanId, status: currentStatus };
    if (prev && prev.id === currentScanId && prev.status === 'running' && currentStatus !== 'running') {
      setCancelling(false);
      reloadCurrent();
    }
  }, [currentScanId, currentStatus, reloadCurrent]);

  const open = (id: number) => {
    if (id === currentId) return;
    setConfirmed(null);
    setCancelling(false);
    navigate('discovery', { scanId: id });
  };

  const started = (scan: ScanView) => {
    setScans((prev) => upsertScan(prev, scan));
    setConfirmed(null);
    setCancelling(false);
    setCurrent({ scan, devices: [] });
    navigate('discovery', { scanId: scan.id });
  };

  const cancel = async () => {
    if (!current) return;
    setCancelling(true);
    try {
      const scan = await api.cancelScan(current.scan.id);
      // The server answers before the probes have stopped; the final status arrives as an event.
      setCurrent((prev) => (prev && prev.scan.id === scan.id ? { ...prev, scan: laterScan(prev.scan, scan) } : prev));
    } catch (err) {
      setCancelling(false);
      setCurrentError(err);
    }
  };

  const onConfirmed = (device: DiscoveredDeviceView, camera: CameraPointView) => {
    setConfirming(null);
    setConfirmed(camera);
    setCurrent((prev) =>
      prev
        ? {
            ...prev,
            devices: prev.devices.map((d) =>
              d.id === device.id ? { ...d, status: 'confirmed', cameraId: camera.id, reason: null } : d,
            ),
          }
        : prev,
    );
  };

  return (
    <div className="discovery">
      <aside className="panel discovery__side">
        <ScanForm onStarted={started} />
        <section className="scan-history" aria-label={t('discovery.history')}>
          <h2 className="scan-history__title">{t('discovery.history')}</h2>
          {scansError !== null && <div className="notice notice--error">{describeError(scansError, t)}</div>}
          {scans.length === 0 && scansError === null && <p className="muted">{t('discovery.noScans')}</p>}
          <ul className="scan-history__list">
            {scans.map((scan) => (
              <li key={scan.id}>
                <ScanHistoryItem scan={scan} selected={scan.id === currentId} onOpen={() => open(scan.id)} />
              </li>
            ))}
          </ul>
        </section>
      </aside>

      <section className="discovery__main">
        {currentError !== null && (
          <div className="notice notice--error discovery__notice" role="alert">
            {describeError(currentError, t)}{' '}
            <button type="button" className="link-button" onClick={reloadCurrent}>
              {t('common.retry')}
            </button>
          </div>
        )}
        {currentId === null && <DiscoveryIntro />}
        {currentId !== null && current === null && currentError === null && (
          <div className="empty">{t('common.loading')}</div>
        )}
        {current && (
          <>
            <ScanHeader
              scan={current.scan}
              // Each interrogated device is a row; the counter in the view can lag behind the rows.
              interrogated={Math.max(current.scan.interrogated, current.devices.length)}
              cancelling={cancelling}
              onCancel={() => void cancel()}
            />
            {confirmed && (
              <div className="notice notice--success discovery__notice" role="status">
                {t('discovery.confirmedNotice', { name: confirmed.name })}{' '}
                <CameraLink id={confirmed.id} label={t('discovery.openPoint')} />
              </div>
            )}
            <DeviceTable
              devices={current.devices}
              running={current.scan.status === 'running'}
              onConfirm={setConfirming}
            />
          </>
        )}
      </section>

      {confirming && (
        <ConfirmDeviceDialog
          device={confirming}
          orgUnits={refs.orgUnits}
          networks={refs.networks}
          onClose={() => setConfirming(null)}
          onConfirmed={(camera) => onConfirmed(confirming, camera)}
          onConflict={reloadCurrent}
        />
      )}
    </div>
  );
}

function CameraLink({ id, label }: { id: number; label: string }) {
  return (
    <a
      href={pathOf('registry', { cameraId: id })}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate('registry', { cameraId: id });
      }}
    >
      {label}
    </a>
  );
}

function DiscoveryIntro() {
  const { t } = useI18n();
  return (
    <div className="discovery__intro">
      <h2>{t('discovery.introTitle')}</h2>
      <ul>
        <li>{t('discovery.introUnicast')}</li>
        <li>{t('discovery.introMulticast')}</li>
        <li>{t('discovery.introManual')}</li>
        <li>{t('discovery.introConfirm')}</li>
      </ul>
    </div>
  );
}

function ScanStatusBadge({ status }: { status: ScanView['status'] }) {
  const { t } = useI18n();
  return <span className={`badge badge--scan-${status}`}>{t(`scanStatus.${status}`)}</span>;
}

function ScanHistoryItem({ scan, selected, onOpen }: { scan: ScanView; selected: boolean; onOpen: () => void }) {
  const { t, formatTime } = useI18n();
  return (
    <button
      type="button"
      className={`scan-item ${selected ? 'scan-item--selected' : ''}`}
      aria-current={selected ? 'true' : undefined}
      onClick={onOpen}
    >
      <span className="scan-item__top">
        <span className="scan-item__mode">{t(`scanMode.${scan.mode}`)}</span>
        <ScanStatusBadge status={scan.status} />
      </span>
      <span className="scan-item__target mono" title={scan.target}>
        {scan.target}
      </span>
      <span className="scan-item__meta muted">
        {formatTime(scan.startedAt)}
        {scan.createdBy ? ` · ${scan.createdBy}` : ''} · {t('discovery.foundCount', { n: scan.found })}
      </span>
    </button>
  );
}

function ProgressBar({
  label,
  done,
  of,
  active,
  indeterminate,
}: {
  label: string;
  done: number;
  of: number;
  active: boolean;
  indeterminate: boolean;
}) {
  const value = ratio(done, of);
  return (
    <div className={`progress ${active ? 'progress--active' : ''}`}>
      <div className="progress__label">
        <span>{label}</span>
        <span className="mono">
          {done} / {of}
        </span>
      </div>
      <div
        className={`progress__track ${indeterminate ? 'progress__track--indeterminate' : ''}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={of}
        aria-valuenow={indeterminate ? undefined : done}
      >
        <span style={indeterminate ? undefined : { width: `${value * 100}%` }} />
      </div>
    </div>
  );
}

function ScanHeader({
  scan,
  interrogated,
  cancelling,
  onCancel,
}: {
  scan: ScanView;
  interrogated: number;
  cancelling: boolean;
  onCancel: () => void;
}) {
  const { t, lang, formatTime } = useI18n();
  const running = scan.status === 'running';
  const probing = running && scan.probed < scan.total;
  return (
    <header className="scan-header">
      <div className="scan-header__title">
        <h2>
          {t(`scanMode.${scan.mode}`)} <span className="mono scan-header__target">{scan.target}</span>
        </h2>
        <ScanStatusBadge status={scan.status} />
        <span className="toolbar__spacer" />
        {running && (
          <button type="button" className="button button--danger-ghost" onClick={onCancel} disabled={cancelling}>
            {cancelling ? t('scan.cancelling') : t('scan.cancel')}
          </button>
        )}
      </div>
      <div className="scan-header__meta muted">
        {t('discovery.startedAt', { time: formatTime(scan.startedAt) })}
        {scan.createdBy && ` · ${scan.createdBy}`}
        {scan.finishedAt && ` · ${t('discovery.finishedAt', { time: formatTime(scan.finishedAt) })}`}
      </div>
      {scan.error && (
        <div className="notice notice--error" role="alert">
          {t('discovery.scanFailed', { message: serverText(lang, { message: scan.error }) ?? t('err.field') })}
        </div>
      )}
      <div className="scan-header__progress">
        <ProgressBar
          label={t('discovery.probed')}
          done={scan.probed}
          of={scan.total}
          active={probing}
          // Multicast sends one probe and then listens: only the end is known.
          indeterminate={probing && scan.mode !== 'unicast'}
        />
        <ProgressBar
          label={t('discovery.interrogated')}
          done={interrogated}
          of={Math.max(scan.found, interrogated)}
          active={running && !probing}
          indeterminate={false}
        />
      </div>
    </header>
  );
}

const DEVICE_STATUS_ORDER: Record<DeviceStatus, number> = {
  new: 0,
  auth_failed: 1,
  error: 2,
  unreachable: 3,
  not_onvif: 4,
  registered: 5,
  confirmed: 6,
};

function DeviceStatusBadge({ status }: { status: DeviceStatus }) {
  const { t } = useI18n();
  return <span className={`badge badge--device-${status}`}>{t(`deviceStatus.${status}`)}</span>;
}

function DeviceTable({
  devices,
  running,
  onConfirm,
}: {
  devices: readonly DiscoveredDeviceView[];
  running: boolean;
  onConfirm: (device: DiscoveredDeviceView) => void;
}) {
  const { t } = useI18n();
  // New devices first: they are the ones waiting for the technician.
  const rows = [...devices].sort(
    (a, b) => DEVICE_STATUS_ORDER[a.status] - DEVICE_STATUS_ORDER[b.status] || a.id - b.id,
  );
  const counts = devices.reduce<Partial<Record<DeviceStatus, number>>>((acc, d) => {
    acc[d.status] = (acc[d.status] ?? 0) + 1;
    return acc;
  }, {});

  return (
    <div className="device-table">
      <div className="device-table__summary">
        {(Object.keys(DEVICE_STATUS_ORDER) as DeviceStatus[])
          .filter((s) => counts[s])
          .map((s) => (
            <span key={s} className="device-table__count">
              <DeviceStatusBadge status={s} /> {counts[s]}
            </span>
          ))}
      </div>
      <div className="table-wrap">
        <table className="data-table data-table--devices">
          <thead>
            <tr>
              <th>{t('col.status')}</th>
              <th>{t('device.address')}</th>
              <th>{t('device.makeModel')}</th>
              <th>{t('device.serialMac')}</th>
              <th>{t('device.streams')}</th>
              <th>{t('col.ptz')}</th>
              <th>{t('device.clock')}</th>
              <th>{t('device.reason')}</th>
              <th aria-label={t('col.actions')} />
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <DeviceRow key={d.id} device={d} onConfirm={onConfirm} />
            ))}
          </tbody>
        </table>
        {rows.length === 0 && (
          <div className="empty">{running ? t('discovery.waitingDevices') : t('discovery.noDevices')}</div>
        )}
      </div>
    </div>
  );
}

function DeviceRow({
  device,
  onConfirm,
}: {
  device: DiscoveredDeviceView;
  onConfirm: (device: DiscoveredDeviceView) => void;
}) {
  const { t, lang } = useI18n();
  const { main, sub } = mainAndSub(device.profiles);
  const identity = makeAndModel(device);
  const skewed = clockIsOff(device);
  return (
    <tr data-device-id={device.id} data-status={device.status}>
      <td>
        <DeviceStatusBadge status={device.status} />
      </td>
      <td className="mono" title={device.endpoint ? `${device.xaddr}\n${device.endpoint}` : device.xaddr}>
        {device.host}
      </td>
      <td>
        {identity ?? t('common.none')}
        {device.firmware && <div className="cell-sub">{t('device.firmware', { v: device.firmware })}</div>}
      </td>
      <td className="mono">
        {device.serial ?? t('common.none')}
        <div className="cell-sub">{device.mac ?? t('common.none')}</div>
      </td>
      <td className="nowrap">
        {main ? (
          <>
            <span className="stream-tag">{t('device.main')}</span> {profileSummary(main)}
          </>
        ) : (
          t('common.none')
        )}
        {sub && (
          <div className="cell-sub">
            <span className="stream-tag">{t('device.sub')}</span> {profileSummary(sub)}
          </div>
        )}
      </td>
      <td>{device.ptz ? t('common.yes') : t('common.none')}</td>
      <td className={skewed ? 'clock-warn' : 'muted'}>
        {device.clockOffsetMs === null ? (
          t('common.none')
        ) : skewed ? (
          <span title={t('device.clockSkewedTitle')}>
            {t('device.clockSkewed', { offset: formatOffset(device.clockOffsetMs, t) })}
          </span>
        ) : (
          formatOffset(device.clockOffsetMs, t)
        )}
      </td>
      <td className="cell-reason" title={device.reason ?? undefined}>
        {device.reason
          ? deviceReason(lang, t, device)
          : device.status === 'new' && !device.credentialsOk
            ? t('device.noCredentials')
            : ''}
      </td>
      <td className="nowrap">
        {device.status === 'new' && (
          <button type="button" className="button button--primary button--small" onClick={() => onConfirm(device)}>
            {t('discovery.confirm')}
          </button>
        )}
        {(device.status === 'registered' || device.status === 'confirmed') && device.cameraId !== null && (
          <CameraLink id={device.cameraId} label={t('discovery.openPoint')} />
        )}
      </td>
    </tr>
  );
}
