/**
 * The screen's own rule (issue 17), saved with its layout so its kiosk follows
 * it: large-screen mode, from which level alerts pop up and sound, which tiles
 * their cameras may take, and for how long.
 */
import { ALERT_LEVELS, type AlertLevel, type WallScreenSettings } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';

const HOLD_CHOICES = [30, 60, 120, 300, 600];

export function WallSettingsPanel(props: {
  settings: WallScreenSettings;
  tileCount: number;
  onChange: (next: WallScreenSettings) => void;
  onClose: () => void;
}) {
  const { settings, tileCount, onChange } = props;
  const { t } = useI18n();
  const set = (patch: Partial<WallScreenSettings>) => onChange({ ...settings, ...patch });
  const toggleTile = (i: number) =>
    set({
      alertTiles: settings.alertTiles.includes(i)
        ? settings.alertTiles.filter((x) => x !== i)
        : [...settings.alertTiles, i].sort((a, b) => a - b),
    });
  return (
    <section className="wall-settings" aria-label={t('wall.settings')}>
      <label className="wall-settings__row">
        <input
          type="checkbox"
          name="wall-large"
          checked={settings.large}
          onChange={(e) => set({ large: e.target.checked })}
        />
        {t('wall.largeMode')}
      </label>
      <label className="wall-settings__row">
        {t('wall.alertMinLevel')}
        <select
          className="wall-select"
          name="wall-alert-level"
          value={settings.alertMinLevel}
          onChange={(e) => set({ alertMinLevel: e.target.value as AlertLevel })}
        >
          {ALERT_LEVELS.map((l) => (
            <option key={l} value={l}>
              {l === 'red'
                ? t('wall.levelOnly', { level: t('alert.level.red') })
                : t('wall.levelUp', { level: t(`alert.level.${l}`) })}
            </option>
          ))}
        </select>
      </label>
      <label className="wall-settings__row">
        <input
          type="checkbox"
          name="wall-alert-sound"
          checked={settings.alertSound}
          onChange={(e) => set({ alertSound: e.target.checked })}
        />
        {t('wall.alertSound')}
      </label>
      <div className="wall-settings__row" role="group" aria-label={t('wall.alertTiles')}>
        <span>{t('wall.alertTiles')}</span>
        {Array.from({ length: tileCount }, (_, i) => (
          <button
            key={i}
            type="button"
            className={`wall-grid-button ${settings.alertTiles.includes(i) ? 'wall-grid-button--on' : ''}`}
            aria-pressed={settings.alertTiles.includes(i)}
            data-tile={i}
            onClick={() => toggleTile(i)}
          >
            {i + 1}
          </button>
        ))}
        {settings.alertTiles.length === 0 && <span className="wall-settings__hint">{t('wall.alertTilesNone')}</span>}
      </div>
      <label className="wall-settings__row">
        {t('wall.alertHold')}
        <select
          className="wall-select"
          name="wall-alert-hold"
          value={settings.alertHoldSec}
          onChange={(e) => set({ alertHoldSec: Number(e.target.value) })}
        >
          {[...new Set([...HOLD_CHOICES, settings.alertHoldSec])]
            .sort((a, b) => a - b)
            .map((s) => (
              <option key={s} value={s}>
                {t('wall.seconds', { n: s })}
              </option>
            ))}
        </select>
      </label>
      <button type="button" className="wall-button" onClick={props.onClose}>
        {t('common.closeWindow')}
      </button>
    </section>
  );
}
