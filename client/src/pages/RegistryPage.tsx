import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  CAMERA_STATUSES,
  type CameraPointView,
  type CameraSearchQuery,
  type CameraStatus,
  type Position,
  type ServerToClientEvents,
} from '@api/contract.ts';
import { ALERT_LEVEL_COLORS, isOpen, levelRank } from '../alerts/alertColors.ts';
import { useAlerts } from '../alerts/AlertsProvider.tsx';
import { api, ApiError, cameraExportUrl, isAbort } from '../api.ts';
import { MapSearch } from '../components/MapSearch.tsx';
import { MapView, type Bbox, type MapAlert } from '../components/MapView.tsx';
import { NetworkList, networkLabel } from '../components/NetworkList.tsx';
import { OnlineRatePanel } from '../components/OnlineRatePanel.tsx';
import { OrgTree } from '../components/OrgTree.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { describeError } from '../errors.ts';
import { LivePanel, type LiveTarget } from '../live/LivePanel.tsx';
import { useI18n } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';
import { useRealtime } from '../realtime.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.tsx';
import { throttle } from '../throttle.ts';
import { useMapConfig } from '../useMapConfig.ts';
import { CameraForm } from './CameraForm.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { useCameraSearch } from './useCameraSearch.ts';
import { useReferenceData } from './useReferenceData.ts';

interface Filters {
  q: string;
  org: number | null;
  network: string | null;
  status: CameraStatus | null;
  ptz: boolean;
  inView: boolean;
}

const EMPTY_FILTERS: Filters = { q: '', org: null, network: null, status: null, ptz: false, inView: false };
const PAGE_SIZE = 50;

type EditorState = { mode: 'new' } | { mode: 'edit'; camera: CameraPointView } | null;

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

function isCameraStatus(value: string): value is CameraStatus {
  return CAMERA_STATUSES.some((s) => s === value);
}

/** How often the tree's online counts may be refetched while status events stream in. */
const STATUS_REFRESH_MS = 5_000;

export function RegistryPage({ openCameraId = null }: { openCameraId?: number | null }) {
  const { t, lang } = useI18n();
  const { can } = useSession();
  const { socket } = useRealtime();
  const mapConfig = useMapConfig();
  const refs = useReferenceData();

  const [tab, setTab] = useState<'org' | 'network'>('org');
  const [filters, setFilters] = useState<Filters>(EMPTY_FILTERS);
  const [bbox, setBbox] = useState<Bbox | null>(null);
  const [refreshToken, setRefreshToken] = useState(0);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [editor, setEditor] = useState<EditorState>(null);
  const [importOpen, setImportOpen] = useState(false);
  const [linkError, setLinkError] = useState<{ id: number; error: unknown } | null>(null);
  const [live, setLive] = useState<LiveTarget | null>(null);
  const tableRef = useRef<HTMLDivElement>(null);

  const q = useDebounced(filters.q.trim(), 300);
  const bboxParam = filters.inView && bbox ? bbox.join(',') : undefined;
  const query = useMemo<CameraSearchQuery>(
    () => ({
      q: q || undefined,
      org: filters.org ?? undefined,
      network: filters.network ?? undefined,
      status: filters.status ?? undefined,
      ptz: filters.ptz || undefined,
      bbox: bboxParam,
      limit: PAGE_SIZE,
      withTotal: true,
    }),
    [q, filters.org, filters.network, filters.status, filters.ptz, bboxParam],
  );
  const search = useCameraSearch(query, refreshToken);
  const { patchItem, patchStatus } = search;
  const { reload: reloadRefs } = refs;

  const update = (patch: Partial<Filters>) => setFilters((prev) => ({ ...prev, ...patch }));
  const statusFiltered = useRef(false);
  statusFiltered.current = filters.status !== null;

  const refreshAll = useCallback(() => {
    setRefreshToken((n) => n + 1);
    setMapGeneration((n) => n + 1);
    reloadRefs();
  }, [reloadRefs]);

  // Realtime: edits by others patch the loaded rows; new points and imports refetch.
  useEffect(() => {
    if (!socket) return;
    let timer: number | undefined;
    const refreshSoon = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshAll, 400);
    };
    const onChanged: ServerToClientEvents['camera:changed'] = (event) => {
      // The live panel follows its point: renamed, PTZ changed, or gone.
      setLive((prev) => {
        if (!prev || prev.id !== event.id) return prev;
        if (event.kind === 'deleted' || !event.camera) return null;
        return { id: event.camera.id, name: event.camera.name, ptz: event.camera.ptz };
      });
      if (event.kind === 'created') refreshSoon();
      else {
        patchItem(event.id, event.kind === 'deleted' ? null : event.camera);
        window.clearTimeout(timer);
        timer = window.setTimeout(reloadRefs, 400);
      }
    };
    // Status changes patch the badge at once; the tree's counts follow at most every few seconds. The map
    // takes them as deltas (MapView), unless it shows one status only: then points leave and join it.
    const countsSoon = throttle(() => {
      reloadRefs();
      if (statusFiltered.current) setMapGeneration((n) => n + 1);
    }, STATUS_REFRESH_MS);
    const onStatus: ServerToClientEvents['camera:status'] = (event) => {
      patchStatus(event);
      countsSoon.call();
    };
    socket.on('camera:changed', onChanged);
    socket.on('registry:imported', refreshSoon);
    socket.on('camera:status', onStatus);
    return () => {
      window.clearTimeout(timer);
      countsSoon.cancel();
      socket.off('camera:changed', onChanged);
      socket.off('registry:imported', refreshSoon);
      socket.off('camera:status', onStatus);
    };
  }, [socket, patchItem, patchStatus, refreshAll, reloadRefs]);

  // A link to /registry/cameras/:id (e.g. from the discovery console) opens that point's form.
  useEffect(() => {
    if (openCameraId === null) return;
    const controller = new AbortController();
    setLinkError(null);
    api.camera(openCameraId, controller.signal).then(
      (camera) => {
        setSelectedId(camera.id);
        setEditor({ mode: 'edit', camera });
      },
      (error: unknown) => {
        if (!isAbort(error)) setLinkError({ id: openCameraId, error });
      },
    );
    return () => controller.abort();
  }, [openCameraId]);

  const closeEditor = useCallback(() => {
    setEditor(null);
    if (openCameraId !== null) navigate('registry', { replace: true });
  }, [openCameraId]);

  const networkIds = useMemo(() => refs.networks.map((n) => n.id), [refs.networks]);
  const networksById = useMemo(() => new Map(refs.networks.map((n) => [n.id, n])), [refs.networks]);
  const orgById = useMemo(() => new Map(refs.orgUnits.map((u) => [u.id, u])), [refs.orgUnits]);

  const { alerts } = useAlerts();
  const alertMarkers = useMemo<MapAlert[]>(
    () =>
      alerts
        .filter((a) => isOpen(a.status))
        .map((a) => ({
          id: a.id,
          position: a.position,
          color: ALERT_LEVEL_COLORS[a.level],
          fresh: a.status === 'new',
          rank: levelRank(a.level),
        })),
    [alerts],
  );
  // The map draws every point of the filter (the wall's point source with the same filters), not the
  // loaded page of the table (issue 17). Reloaded when the registry changes, at most every few seconds.
  const [mapGeneration, setMapGeneration] = useState(0);
  const pointsFilter = useMemo(() => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (filters.org !== null) p.set('org', String(filters.org));
    if (filters.network) p.set('network', filters.network);
    if (filters.status) p.set('status', filters.status);
    if (filters.ptz) p.set('ptz', 'true');
    return p.toString();
  }, [q, filters.org, filters.network, filters.status, filters.ptz]);
  const pointsFeed = `${pointsFilter}${pointsFilter ? '&' : ''}g=${mapGeneration}`;
  const networkColors = useMemo(
    () => Object.fromEntries(networkIds.map((id) => [id, networkColor(id, networkIds)])),
    [networkIds],
  );
  const [flyTo, setFlyTo] = useState<{ key: string; center: Position; bbox: Bbox | null } | null>(null);

  const play = useCallback((camera: CameraPointView) => {
    setSelectedId(camera.id);
    setLive({ id: camera.id, name: camera.name, ptz: camera.ptz });
  }, []);
  // A point picked on the map may lie beyond the table's loaded page: fetched on its own.
  const [picked, setPicked] = useState<CameraPointView | null>(null);
  const inPage = selectedId === null ? undefined : search.items.find((c) => c.id === selectedId);
  useEffect(() => {
    if (selectedId === null || inPage) return;
    const controller = new AbortController();
    api.camera(selectedId, controller.signal).then(setPicked, () => undefined);
    return () => controller.abort();
  }, [selectedId, inPage]);
  const selected = inPage ?? (picked && picked.id === selectedId ? picked : undefined);

  const selectFromMap = useCallback((id: number) => {
    setSelectedId(id);
    tableRef.current?.querySelector(`[data-camera-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
  }, []);

  const activeFilterCount =
    (filters.q ? 1 : 0) +
    (filters.org !== null ? 1 : 0) +
    (filters.network !== null ? 1 : 0) +
    (filters.status !== null ? 1 : 0) +
    (filters.ptz ? 1 : 0) +
    (filters.inView ? 1 : 0);
  const orgFilter = filters.org === null ? undefined : orgById.get(filters.org);

  const countText =
    search.total === null
      ? t('registry.shownNoTotal', { shown: search.items.length })
      : search.items.length < search.total
        ? t('registry.shown', { shown: search.items.length, total: search.total })
        : t('registry.total', { total: search.total });

  return (
    <div className="registry">
      <aside className="panel registry__side">
        <div className="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'org'}
            className={`tab ${tab === 'org' ? 'tab--active' : ''}`}
            onClick={() => setTab('org')}
          >
            {t('registry.tabOrg')}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'network'}
            className={`tab ${tab === 'network' ? 'tab--active' : ''}`}
            onClick={() => setTab('network')}
          >
            {t('registry.tabNetwork')}
          </button>
        </div>
        {refs.error !== null && (
          <div className="notice notice--error">
            {describeError(refs.error, t)}{' '}
            <button type="button" className="link-button" onClick={reloadRefs}>
              {t('common.retry')}
            </button>
          </div>
        )}
        {tab === 'org' ? (
          <OrgTree units={refs.orgUnits} selectedId={filters.org} onSelect={(org) => update({ org })} />
        ) : (
          <NetworkList
            networks={refs.networks}
            selectedId={filters.network}
            onSelect={(network) => update({ network })}
          />
        )}
      </aside>

      <section className="registry__centre">
        <OnlineRatePanel
          networks={refs.networks}
          orgUnits={refs.orgUnits}
          selectedNetwork={filters.network}
          selectedOrg={filters.org}
          onSelectNetwork={(network) => update({ network })}
          onSelectOrg={(org) => update({ org })}
        />
        {linkError && (
          <div className="notice notice--error registry__link-error" role="alert">
            {linkError.error instanceof ApiError && linkError.error.status === 404
              ? t('registry.linkNotFound', { id: linkError.id })
              : describeError(linkError.error, t)}{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setLinkError(null);
                navigate('registry', { replace: true });
              }}
            >
              {t('common.close')}
            </button>
          </div>
        )}
        <div className="toolbar">
          <input
            type="search"
            className="toolbar__search"
            placeholder={t('registry.searchPlaceholder')}
            aria-label={t('registry.searchPlaceholder')}
            value={filters.q}
            onChange={(e) => update({ q: e.target.value })}
          />
          <select
            aria-label={t('col.network')}
            value={filters.network ?? ''}
            onChange={(e) => update({ network: e.target.value || null })}
          >
            <option value="">{t('registry.anyNetwork')}</option>
            {refs.networks.map((n) => (
              <option key={n.id} value={n.id}>
                {networkLabel(n, lang)}
              </option>
            ))}
          </select>
          <select
            aria-label={t('col.status')}
            value={filters.status ?? ''}
            onChange={(e) => update({ status: isCameraStatus(e.target.value) ? e.target.value : null })}
          >
            <option value="">{t('registry.anyStatus')}</option>
            {CAMERA_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
          <label className="check">
            <input type="checkbox" checked={filters.ptz} onChange={(e) => update({ ptz: e.target.checked })} />
            {t('registry.ptzOnly')}
          </label>
          <label className="check">
            <input type="checkbox" checked={filters.inView} onChange={(e) => update({ inView: e.target.checked })} />
            {t('registry.inView')}
          </label>
        </div>

        <div className="toolbar toolbar--secondary">
          <span className="result-count">{countText}</span>
          {orgFilter && (
            <span className="chip">
              {t('registry.filterOrg', { name: orgFilter.name })}
              <button type="button" onClick={() => update({ org: null })} aria-label={t('common.close')}>
                ×
              </button>
            </span>
          )}
          {activeFilterCount > 0 && (
            <button type="button" className="link-button" onClick={() => setFilters(EMPTY_FILTERS)}>
              {t('registry.clearFilters')}
            </button>
          )}
          <span className="toolbar__spacer" />
          {can('camera.write') && (
            <button type="button" className="button button--primary" onClick={() => setEditor({ mode: 'new' })}>
              {t('registry.add')}
            </button>
          )}
          {can('camera.import') && (
            <button type="button" className="button" onClick={() => setImportOpen(true)}>
              {t('registry.import')}
            </button>
          )}
          {can('camera.export') && (
            <a className="button" href={cameraExportUrl(query)} download>
              {t('registry.export')}
            </a>
          )}
        </div>

        <div className="table-wrap" ref={tableRef}>
          <table className="data-table data-table--cameras">
            <colgroup>
              <col className="col-name" />
              <col className="col-code" />
              <col className="col-network" />
              <col className="col-org" />
              <col className="col-status" />
              <col className="col-ptz" />
              <col className="col-address" />
              <col className="col-actions" />
            </colgroup>
            <thead>
              <tr>
                <th>{t('col.name')}</th>
                <th>{t('col.code')}</th>
                <th>{t('col.network')}</th>
                <th>{t('col.orgUnit')}</th>
                <th>{t('col.status')}</th>
                <th>{t('col.ptz')}</th>
                <th className="cell-address">{t('col.address')}</th>
                <th aria-label={t('col.actions')} />
              </tr>
            </thead>
            <tbody>
              {search.items.map((c) => {
                const network = networksById.get(c.networkId);
                return (
                  <tr
                    key={c.id}
                    data-camera-id={c.id}
                    className={selectedId === c.id ? 'row--selected' : undefined}
                    onClick={() => setSelectedId(c.id)}
                    onDoubleClick={() => setEditor({ mode: 'edit', camera: c })}
                  >
                    <td className="cell-name" title={c.name}>
                      {c.name}
                    </td>
                    <td className="mono">{c.code ?? t('common.none')}</td>
                    <td title={network ? networkLabel(network, lang) : c.networkId}>
                      <span className="swatch" style={{ background: networkColor(c.networkId, networkIds) }} />
                      {network ? networkLabel(network, lang) : c.networkId}
                    </td>
                    <td title={c.orgUnitName}>{c.orgUnitName}</td>
                    <td>
                      <StatusBadge status={c.status} reason={c.statusReason} />
                    </td>
                    <td>{c.ptz ? t('common.yes') : t('common.none')}</td>
                    <td className="cell-address" title={c.address ?? undefined}>
                      {c.address ?? t('common.none')}
                    </td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="link-button"
                        title={t('live.playTitle', { name: c.name })}
                        aria-pressed={live?.id === c.id}
                        onClick={(e) => {
                          e.stopPropagation();
                          play(c);
                        }}
                      >
                        {t('live.play')}
                      </button>
                      <button
                        type="button"
                        className="link-button"
                        onClick={(e) => {
                          e.stopPropagation();
                          setEditor({ mode: 'edit', camera: c });
                        }}
                      >
                        {can('camera.write') ? t('registry.edit') : t('registry.view')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {!search.loading && search.error === null && search.items.length === 0 && (
            <div className="empty">{t('registry.empty')}</div>
          )}
          {search.error !== null && (
            <div className="notice notice--error">
              {describeError(search.error, t)}{' '}
              <button type="button" className="link-button" onClick={() => setRefreshToken((n) => n + 1)}>
                {t('common.retry')}
              </button>
            </div>
          )}
          <div className="table-footer">
            {search.loading && <span className="muted">{t('common.loading')}</span>}
            {!search.loading && search.nextCursor && (
              <button type="button" className="button" onClick={search.loadMore}>
                {t('common.loadMore')}
              </button>
            )}
          </div>
        </div>
      </section>

      <section className="registry__map">
        {live && <LivePanel key={live.id} camera={live} onClose={() => setLive(null)} />}
        <div className="registry__map-area">
          {mapConfig.status === 'ready' && (
            <MapView
              config={mapConfig.config}
              pointsFeed={pointsFeed}
              networkColors={networkColors}
              alerts={alertMarkers}
              selectedId={selectedId}
              onPointClick={selectFromMap}
              onViewChange={setBbox}
              fitKey={filters.inView ? null : `points:${pointsFilter}`}
              flyTo={flyTo}
              showPlaceLabels
            />
          )}
          {mapConfig.status === 'ready' && (
            <MapSearch
              onPick={(hit) => {
                setFlyTo({ key: `${hit.kind}:${hit.id}:${Date.now()}`, center: hit.position, bbox: hit.bbox });
                if (hit.kind !== 'org') selectFromMap(hit.id);
              }}
            />
          )}
          {mapConfig.status === 'loading' && <div className="map-placeholder">{t('map.loading')}</div>}
          {mapConfig.status === 'error' && (
            <div className="map-placeholder">
              {t('registry.mapUnavailable', { message: describeError(mapConfig.error, t) })}
            </div>
          )}
          {refs.networks.length > 0 && (
            <div className="map-legend">
              {refs.networks.map((n) => (
                <span key={n.id}>
                  <span className="swatch" style={{ background: networkColor(n.id, networkIds) }} />
                  {networkLabel(n, lang)}
                </span>
              ))}
            </div>
          )}
          {selected && live?.id !== selected.id && (
            <div className="map-selection" data-camera-id={selected.id}>
              <span className="map-selection__label">{t('live.selected')}</span>
              <span className="map-selection__name" title={selected.name}>
                {selected.name}
              </span>
              <StatusBadge status={selected.status} reason={selected.statusReason} />
              <button type="button" className="button button--small button--primary" onClick={() => play(selected)}>
                {t('live.play')}
              </button>
            </div>
          )}
        </div>
      </section>

      {editor && (
        <CameraForm
          camera={editor.mode === 'edit' ? editor.camera : null}
          orgUnits={refs.orgUnits}
          networks={refs.networks}
          readOnly={!can('camera.write')}
          onClose={closeEditor}
          onSaved={(camera) => {
            closeEditor();
            if (camera) setSelectedId(camera.id);
            refreshAll();
          }}
        />
      )}
      {importOpen && (
        <ImportDialog
          onClose={() => setImportOpen(false)}
          onImported={() => {
            refreshAll();
          }}
        />
      )}
    </div>
  );
}
