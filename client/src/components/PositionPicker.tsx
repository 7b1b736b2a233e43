/**
 * Longitude, latitude and coordinate system as typed, plus a map to click.
 * Used by the camera form and by the discovery confirmation dialog.
 */
import { useMemo } from 'react';
import { COORD_SYSTEMS, type CoordSystem, type Position } from '@api/contract.ts';
import { toWgs84 } from '@geo/coords.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import { formatDegrees } from '../pages/cameraFormModel.ts';
import { useMapConfig } from '../useMapConfig.ts';
import { Field } from './Field.tsx';
import { MapView } from './MapView.tsx';

export interface PositionText {
  lon: string;
  lat: string;
  system: CoordSystem;
}

interface PositionPickerProps {
  value: PositionText;
  onChange: (patch: Partial<PositionText>) => void;
  /** Messages by field: `lon` (also used for a whole-position error), `lat`, `system`. */
  errors?: { lon?: string | undefined; lat?: string | undefined; system?: string | undefined };
  readOnly?: boolean;
}

function isCoordSystem(value: string): value is CoordSystem {
  return COORD_SYSTEMS.some((s) => s === value);
}

/** Where the typed position really is, in WGS-84, or null while it is incomplete or out of range. */
export function pinOf(value: PositionText): Position | null {
  const lon = Number(value.lon);
  const lat = Number(value.lat);
  if (value.lon.trim() === '' || value.lat.trim() === '' || !Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  if (Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  // Display only, so that the pin sits where a GCJ-02 / BD-09 point really is; the server converts on save.
  const [wgsLon, wgsLat] = toWgs84(value.system, lon, lat);
  return { lon: wgsLon, lat: wgsLat };
}

export function PositionPicker({ value, onChange, errors = {}, readOnly = false }: PositionPickerProps) {
  const { t } = useI18n();
  const mapConfig = useMapConfig();
  const pin = useMemo(() => pinOf(value), [value]);

  return (
    <>
      <div className="field-row field-row--three">
        <Field label={t('form.lon')} error={errors.lon}>
          {(id) => (
            <input
              id={id}
              className="mono"
              inputMode="decimal"
              value={value.lon}
              readOnly={readOnly}
              onChange={(e) => onChange({ lon: e.target.value })}
            />
          )}
        </Field>
        <Field label={t('form.lat')} error={errors.lat}>
          {(id) => (
            <input
              id={id}
              className="mono"
              inputMode="decimal"
              value={value.lat}
              readOnly={readOnly}
              onChange={(e) => onChange({ lat: e.target.value })}
            />
          )}
        </Field>
        <Field label={t('form.coordSystem')} error={errors.system}>
          {(id) => (
            <select
              id={id}
              value={value.system}
              disabled={readOnly}
              onChange={(e) => {
                if (isCoordSystem(e.target.value)) onChange({ system: e.target.value });
              }}
            >
              {COORD_SYSTEMS.map((s) => (
                <option key={s} value={s}>
                  {t(`coord.${s}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="picker">
        {mapConfig.status === 'ready' ? (
          <MapView
            config={mapConfig.config}
            pin={pin}
            onMapClick={
              readOnly
                ? undefined
                : (position) =>
                    onChange({ lon: formatDegrees(position.lon), lat: formatDegrees(position.lat), system: 'wgs84' })
            }
            fitKey={null}
            showPlaceLabels
            initialCenter={pin}
          />
        ) : (
          <div className="map-placeholder">
            {mapConfig.status === 'loading'
              ? t('map.loading')
              : t('registry.mapUnavailable', { message: describeError(mapConfig.error, t) })}
          </div>
        )}
      </div>
      {!readOnly && <p className="field__hint">{t('form.mapHint')}</p>}
    </>
  );
}
