/**
 * The wall's camera tree: by org unit or by network, with each point's online
 * status. A camera is dragged onto a tile (or clicked, or Enter, to fill the
 * focused or next empty tile); a unit or network can be started as a tour.
 */
import { useMemo, useState, type DragEvent } from 'react';
import type { NetworkView, OrgUnitView } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';
import { CAMERA_MIME, type WallPoint } from './model.ts';

/** Rows drawn per node before "more": a village may hold thousands of private cameras. */
const MAX_ROWS = 200;

interface Group {
  key: string;
  label: string;
  depth: number;
  cameras: WallPoint[];
  /** Every camera of this node's subtree (for a tour). */
  all: WallPoint[];
  children: Group[];
}

export function dragCamera(e: DragEvent, id: number) {
  e.dataTransfer.setData(CAMERA_MIME, String(id));
  e.dataTransfer.setData('text/plain', String(id));
  e.dataTransfer.effectAllowed = 'copy';
}

function byOrg(units: readonly OrgUnitView[], points: readonly WallPoint[]): Group[] {
  const cams = new Map<number, WallPoint[]>();
  for (const p of points) {
    const list = cams.get(p.orgUnitId) ?? [];
    list.push(p);
    cams.set(p.orgUnitId, list);
  }
  const ids = new Set(units.map((u) => u.id));
  const build = (unit: OrgUnitView, depth: number): Group => {
    const children = units
      .filter((u) => u.parentId === unit.id)
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((u) => build(u, depth + 1));
    const own = cams.get(unit.id) ?? [];
    return {
      key: `org:${unit.id}`,
      label: unit.name,
      depth,
      cameras: own,
      all: [...own, ...children.flatMap((c) => c.all)],
      children,
    };
  };
  return units
    .filter((u) => u.parentId === null || !ids.has(u.parentId))
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((u) => build(u, 0));
}

function byNetwork(networks: readonly NetworkView[], points: readonly WallPoint[], lang: string): Group[] {
  return networks
    .map((n) => {
      const cameras = points.filter((p) => p.networkId === n.id);
      return {
        key: `net:${n.id}`,
        label: lang === 'en' ? n.nameEn : n.name,
        depth: 0,
        cameras,
        all: cameras,
        children: [],
      };
    })
    .filter((g) => g.cameras.length > 0);
}

export function CameraTree(props: {
  units: readonly OrgUnitView[];
  networks: readonly NetworkView[];
  points: readonly WallPoint[];
  onPick: (id: number) => void;
  onTour: ((ids: number[]) => void) | null;
}) {
  const { units, networks, points, onPick, onTour } = props;
  const { t, lang } = useI18n();
  const [mode, setMode] = useState<'org' | 'network'>('org');
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [query, setQuery] = useState('');
  const networkIds = useMemo(() => networks.map((n) => n.id), [networks]);
  const groups = useMemo(
    () => (mode === 'org' ? byOrg(units, points) : byNetwork(networks, points, lang)),
    [mode, units, networks, points, lang],
  );
  const toggle = (key: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  const cameraRow = (p: WallPoint, depth: number) => (
    <li key={p.id}>
      <button
        type="button"
        className={`wall-cam wall-cam--${p.status}`}
        style={{ paddingLeft: 10 + depth * 14 }}
        draggable
        onDragStart={(e) => dragCamera(e, p.id)}
        onClick={() => onPick(p.id)}
        title={t('wall.pickHint')}
        data-camera-id={p.id}
      >
        <span
          className="wall-cam__net"
          style={{ background: networkColor(p.networkId, networkIds) }}
          aria-hidden="true"
        />
        <span className="wall-cam__name">{p.name}</span>
        {p.ptz && <span className="wall-cam__ptz">{t('wall.ptz')}</span>}
        <span className={`wall-status wall-status--${p.status}`} title={t(`status.${p.status}`)} />
      </button>
    </li>
  );

  const renderGroup = (g: Group) => {
    // Top-level units start open; toggling flips that default.
    const isOpen = open.has(g.key) !== (g.depth === 0 && mode === 'org');
    const online = g.all.filter((p) => p.status === 'online').length;
    return (
      <li key={g.key} className="wall-tree__group">
        <div className="wall-tree__node" style={{ paddingLeft: 4 + g.depth * 14 }}>
          <button type="button" className="wall-tree__toggle" aria-expanded={isOpen} onClick={() => toggle(g.key)}>
            <span aria-hidden="true">{isOpen ? '▾' : '▸'}</span> {g.label}
          </button>
          <span className="wall-tree__count">
            {online}/{g.all.length}
          </span>
          {onTour && g.all.length > 0 && (
            <button
              type="button"
              className="wall-mini"
              title={t('wall.tourThis')}
              onClick={() => onTour(g.all.slice(0, 256).map((p) => p.id))}
            >
              {t('wall.tour')}
            </button>
          )}
        </div>
        {isOpen && (
          <ul className="wall-tree__list">
            {g.children.map(renderGroup)}
            {g.cameras.slice(0, MAX_ROWS).map((p) => cameraRow(p, g.depth + 1))}
            {g.cameras.length > MAX_ROWS && (
              <li className="wall-tree__more">{t('wall.moreCameras', { count: g.cameras.length - MAX_ROWS })}</li>
            )}
          </ul>
        )}
      </li>
    );
  };

  const q = query.trim().toLowerCase();
  const found = q ? points.filter((p) => p.name.toLowerCase().includes(q)).slice(0, MAX_ROWS) : [];

  return (
    <section className="wall-tree" aria-label={t('wall.cameras')}>
      <div className="wall-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'org'} onClick={() => setMode('org')}>
          {t('wall.byOrg')}
        </button>
        <button type="button" role="tab" aria-selected={mode === 'network'} onClick={() => setMode('network')}>
          {t('wall.byNetwork')}
        </button>
      </div>
      <input
        className="wall-search"
        type="search"
        value={query}
        placeholder={t('wall.searchCameras')}
        aria-label={t('wall.searchCameras')}
        onChange={(e) => setQuery(e.target.value)}
      />
      <ul className="wall-tree__list wall-tree__root">
        {q ? found.map((p) => cameraRow(p, 0)) : groups.map(renderGroup)}
      </ul>
    </section>
  );
}
