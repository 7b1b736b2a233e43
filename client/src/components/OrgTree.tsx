import { useMemo, useState } from 'react';
import type { OrgUnitView } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';

interface TreeNode {
  unit: OrgUnitView;
  children: TreeNode[];
}

/**
 * Builds the county → township → village tree from the flat list. A township
 * operator only receives their own subtree, so a unit whose parent is not in
 * the list is a root too.
 */
export function buildOrgTree(units: readonly OrgUnitView[]): TreeNode[] {
  const nodes = new Map<number, TreeNode>();
  for (const unit of units) nodes.set(unit.id, { unit, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.unit.parentId === null ? undefined : nodes.get(node.unit.parentId);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: TreeNode[]) => {
    list.sort((a, b) => a.unit.code.localeCompare(b.unit.code) || a.unit.name.localeCompare(b.unit.name, 'zh-CN'));
    for (const node of list) sort(node.children);
  };
  sort(roots);
  return roots;
}

/** Depth-first order with depth, for indented selects. */
export function flattenOrgTree(roots: readonly TreeNode[]): { unit: OrgUnitView; depth: number }[] {
  const out: { unit: OrgUnitView; depth: number }[] = [];
  const walk = (list: readonly TreeNode[], depth: number) => {
    for (const node of list) {
      out.push({ unit: node.unit, depth });
      walk(node.children, depth + 1);
    }
  };
  walk(roots, 0);
  return out;
}

interface OrgTreeProps {
  units: readonly OrgUnitView[];
  selectedId: number | null;
  onSelect: (id: number | null) => void;
}

export function OrgTree({ units, selectedId, onSelect }: OrgTreeProps) {
  const { t } = useI18n();
  const roots = useMemo(() => buildOrgTree(units), [units]);
  // Roots start open so that townships are visible; villages open on demand.
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(() => new Set());
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(() => new Set());

  const isOpen = (node: TreeNode, depth: number) =>
    depth === 0 ? !collapsed.has(node.unit.id) : expanded.has(node.unit.id);

  const toggle = (node: TreeNode, depth: number) => {
    const id = node.unit.id;
    if (depth === 0) {
      setCollapsed((prev) => toggled(prev, id));
    } else {
      setExpanded((prev) => toggled(prev, id));
    }
  };

  const renderNode = (node: TreeNode, depth: number) => {
    const { unit } = node;
    const open = isOpen(node, depth);
    const hasChildren = node.children.length > 0;
    return (
      <li
        key={unit.id}
        role="treeitem"
        aria-expanded={hasChildren ? open : undefined}
        aria-selected={selectedId === unit.id}
      >
        <div
          className={`tree-row ${selectedId === unit.id ? 'tree-row--selected' : ''}`}
          style={{ paddingLeft: 6 + depth * 14 }}
        >
          <button
            type="button"
            className="tree-row__caret"
            onClick={() => toggle(node, depth)}
            disabled={!hasChildren}
            aria-hidden={!hasChildren}
            tabIndex={hasChildren ? 0 : -1}
          >
            {hasChildren ? (open ? '▾' : '▸') : ''}
          </button>
          <button
            type="button"
            className="tree-row__label"
            onClick={() => onSelect(selectedId === unit.id ? null : unit.id)}
          >
            <span className="tree-row__name">{unit.name}</span>
            <span className={`level-tag level-tag--${unit.level}`}>{t(`level.${unit.level}`)}</span>
            <span
              className="count"
              title={t('registry.onlineOfTitle', { online: unit.onlineCount, total: unit.cameraCount })}
            >
              {t('registry.onlineOf', { online: unit.onlineCount, total: unit.cameraCount })}
            </span>
          </button>
        </div>
        {hasChildren && open && <ul role="group">{node.children.map((child) => renderNode(child, depth + 1))}</ul>}
      </li>
    );
  };

  return (
    <div className="side-list">
      <button
        type="button"
        className={`side-list__all ${selectedId === null ? 'side-list__all--selected' : ''}`}
        onClick={() => onSelect(null)}
      >
        {t('registry.allUnits')}
      </button>
      <ul className="tree" role="tree">
        {roots.map((root) => renderNode(root, 0))}
      </ul>
    </div>
  );
}

function toggled(set: ReadonlySet<number>, id: number): Set<number> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}
