/**
 * Where a work order's matter is (issue 17): picked on the map, taken from a
 * camera or from an alert — never typed as longitude and latitude — and shown
 * back as a place on a map, not as bare coordinates.
 */
import { useEffect, useState } from 'react';
import type { AlertView, CameraPointView, Position } from '@api/contract.ts';
import { api, isAbort } from '../api.ts';
import { MapView } from '../components/MapView.tsx';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { useMapConfig } from '../useMapConfig.ts';
import './orderPlace.css';

/** A read-only map with the order's pin. */
export function OrderPlaceMap({ position }: { position: Position }) {
  const { t } = useI18n();
  const mapConfig = useMapConfig();
  return (
    <div className="order-place-map" data-field="map">
      {mapConfig.status === 'ready' ? (
        <MapView config={mapConfig.config} pin={position} initialCenter={position} showPlaceLabels />
      ) : (
        <div className="map-placeholder">
          {mapConfig.status === 'loading'
            ? t('map.loading')
            : t('registry.mapUnavailable', { message: describeError(mapConfig.error, t) })}
        </div>
      )}
    </div>
  );
}

/** What the place of a new order was taken from. */
export type PlaceChoice =
  | { kind: 'none' }
  | { kind: 'map'; position: Position }
  | { kind: 'camera'; camera: CameraPointView }
  | { kind: 'alert'; alert: AlertView };

export type PlaceMode = 'map' | 'camera' | 'alert';

/** Cameras of the caller's jurisdiction by name, code or address, a handful at a time. */
function CameraSearch({ onPick }: { onPick: (c: CameraPointView) => void }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<CameraPointView[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      api.searchCameras({ q, limit: 8 }, controller.signal).then(
        (page) => setFound(page.items),
        (err: unknown) => {
          if (!isAbort(err)) setFound([]);
        },
      );
    }, 200);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [q]);
  return (
    <div className="place-search">
      <input
        name="place-camera-search"
        placeholder={t('order.placeCameraSearch')}
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <ul className="place-search__list">
        {found.map((c) => (
          <li key={c.id}>
            <button type="button" className="link-button" data-camera-id={c.id} onClick={() => onPick(c)}>
              {c.name}
              <span className="muted"> · {c.address ?? c.orgUnitName}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The place of a new order: a click on the map, a camera (its position, unit
 * and the camera itself go with the order) or an open alert (the order is
 * made of it: place, level, cameras).
 */
export function PlacePicker({
  choice,
  onChoose,
  alerts,
  error,
}: {
  choice: PlaceChoice;
  onChoose: (c: PlaceChoice) => void;
  alerts: readonly AlertView[];
  error?: string | undefined;
}) {
  const { t } = useI18n();
  const mapConfig = useMapConfig();
  const [mode, setMode] = useState<PlaceMode>(choice.kind === 'none' ? 'map' : choice.kind);
  const pin =
    choice.kind === 'map'
      ? choice.position
      : choice.kind === 'camera'
        ? choice.camera.position
        : choice.kind === 'alert'
          ? choice.alert.position
          : null;
  const modes: PlaceMode[] = ['map', 'camera', ...(alerts.length > 0 ? (['alert'] as const) : [])];
  return (
    <div className={`place-picker ${error ? 'field--invalid' : ''}`} data-place={choice.kind}>
      <div className="tabs tabs--boxed" role="tablist" aria-label={t('order.place')}>
        {modes.map((m) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            data-place-mode={m}
            className={`tab ${mode === m ? 'tab--active' : ''}`}
            onClick={() => setMode(m)}
          >
            {t(`order.placeMode.${m}`)}
          </button>
        ))}
      </div>
      {mode === 'camera' && <CameraSearch onPick={(camera) => onChoose({ kind: 'camera', camera })} />}
      {mode === 'alert' && (
        <select
          name="place-alert"
          value={choice.kind === 'alert' ? String(choice.alert.id) : ''}
          onChange={(e) => {
            const alert = alerts.find((a) => a.id === Number(e.target.value));
            onChoose(alert ? { kind: 'alert', alert } : { kind: 'none' });
          }}
        >
          <option value="">{t('common.choose')}</option>
          {alerts.map((a) => (
            <option key={a.id} value={a.id}>
              {t('order.placeAlertOption', { id: a.id, title: a.title, place: a.orgUnitName })}
            </option>
          ))}
        </select>
      )}
      <div className="picker place-picker__map">
        {mapConfig.status === 'ready' ? (
          <MapView
            config={mapConfig.config}
            pin={pin}
            initialCenter={pin}
            showPlaceLabels
            onMapClick={mode === 'map' ? (position) => onChoose({ kind: 'map', position }) : undefined}
          />
        ) : (
          <div className="map-placeholder">
            {mapConfig.status === 'loading'
              ? t('map.loading')
              : t('registry.mapUnavailable', { message: describeError(mapConfig.error, t) })}
          </div>
        )}
      </div>
      <p className="field__hint" data-place-summary>
        {choice.kind === 'none' && t(mode === 'map' ? 'order.placeHintMap' : 'order.placeHintPick')}
        {choice.kind === 'map' && t('order.placeFromMap')}
        {choice.kind === 'camera' &&
          t('order.placeFromCamera', {
            name: choice.camera.name,
            place: choice.camera.address ?? choice.camera.orgUnitName,
          })}
        {choice.kind === 'alert' && t('order.placeFromAlert', { id: choice.alert.id, place: choice.alert.orgUnitName })}
      </p>
      {error && (
        <div className="field__error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
