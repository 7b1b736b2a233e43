/**
 * The map's search box (issue 17): org units, camera points and mounting
 * addresses of the user's jurisdiction (GET /search). Choosing a hit moves the
 * map there; the page decides what else it does (select, play).
 */
import { useEffect, useId, useState } from 'react';
import type { PlaceSearchResult } from '@api/contract.ts';
import { isAbort, request } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.tsx';
import './mapSearch.css';

const DEBOUNCE_MS = 250;

export function MapSearch({ onPick, className }: { onPick: (hit: PlaceSearchResult) => void; className?: string }) {
  const { t } = useI18n();
  const listId = useId();
  const [text, setText] = useState('');
  const [hits, setHits] = useState<PlaceSearchResult[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  useEffect(() => {
    const q = text.trim();
    if (!q) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      request<PlaceSearchResult[]>(`/search?q=${encodeURIComponent(q)}&limit=15`, { signal: controller.signal }).then(
        (found) => {
          setHits(found);
          setError(null);
          setActive(0);
        },
        (err: unknown) => !isAbort(err) && setError(err),
      );
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [text]);

  const shown = text.trim() ? hits : [];
  const pick = (hit: PlaceSearchResult) => {
    setOpen(false);
    setText(hit.name);
    onPick(hit);
  };

  return (
    <div className={`map-search ${className ?? ''}`} onMouseDown={(e) => e.stopPropagation()}>
      <input
        type="search"
        name="map-search"
        className="map-search__input"
        value={text}
        maxLength={50}
        placeholder={t('map.searchPlaceholder')}
        aria-label={t('map.searchPlaceholder')}
        role="combobox"
        aria-expanded={open && shown.length > 0}
        aria-controls={listId}
        autoComplete="off"
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={(e) => {
          // The wall's own keys (1–7, arrows, Delete) must not act while typing here.
          e.stopPropagation();
          if (e.key === 'ArrowDown') setActive((a) => Math.min(shown.length - 1, a + 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(0, a - 1));
          else if (e.key === 'Enter' && shown[active]) pick(shown[active]);
          else if (e.key === 'Escape') setOpen(false);
          else return;
          e.preventDefault();
        }}
      />
      {open && text.trim() !== '' && (
        <ul className="map-search__list" id={listId} role="listbox">
          {error !== null && <li className="map-search__empty">{describeError(error, t)}</li>}
          {error === null && shown.length === 0 && <li className="map-search__empty">{t('map.searchNone')}</li>}
          {shown.map((h, i) => (
            <li
              key={`${h.kind}:${h.id}:${h.name}`}
              role="option"
              aria-selected={i === active}
              className={`map-search__hit ${i === active ? 'map-search__hit--active' : ''}`}
              data-kind={h.kind}
              data-id={h.id}
              onMouseEnter={() => setActive(i)}
              onClick={() => pick(h)}
            >
              <span className={`map-search__kind map-search__kind--${h.kind}`}>{t(`map.searchKind.${h.kind}`)}</span>
              <span className="map-search__name">{h.name}</span>
              {h.detail && <span className="map-search__detail">{h.detail}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
