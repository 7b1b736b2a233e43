import type { SqlDb } from '../db/sqlite.ts';

/** A camera network: one of the county's separately procured systems. */
export interface Network {
  id: string;
  name: string;
  nameEn: string;
  builtin: boolean;
}

/** The five networks every county has (see shared/DOMAIN.md); more come from config. */
export const BUILTIN_NETWORKS: readonly Network[] = [
  { id: 'xueliang', name: '雪亮工程', nameEn: 'Sharp Eyes', builtin: true },
  { id: 'tianwang', name: '天网工程', nameEn: 'Skynet', builtin: true },
  { id: 'traffic', name: '智慧交通', nameEn: 'Traffic', builtin: true },
  { id: 'urban', name: '数字城管', nameEn: 'Urban management', builtin: true },
  { id: 'huiyan', name: '慧眼工程', nameEn: 'Shared private cameras', builtin: true },
];

export interface NetworkRepo {
  all(): Network[];
  has(id: string): boolean;
  /** Makes the table hold exactly the built-in and configured networks (points keep theirs). */
  sync(networks: readonly Network[]): void;
  /** A network an admin adds in the console (never built in). */
  insert(n: { id: string; name: string; nameEn: string }): Network;
  rename(id: string, names: { name?: string; nameEn?: string }): Network | undefined;
  /** Points on the network in the whole registry (a network is county-wide). */
  pointCount(id: string): number;
  delete(id: string): boolean;
}

export function createNetworkRepo(db: SqlDb): NetworkRepo {
  let cache: Network[] | null = null;
  const all = () =>
    (cache ??= db
      .all<{ id: string; name: string; name_en: string; builtin: number }>(
        'SELECT id, name, name_en, builtin FROM networks ORDER BY builtin DESC, id',
      )
      .map((r) => ({ id: r.id, name: r.name, nameEn: r.name_en, builtin: r.builtin === 1 })));
  return {
    all,
    has: (id) => all().some((n) => n.id === id),
    sync(networks) {
      db.transaction(() => {
        for (const n of networks) {
          const found = db.get('SELECT 1 AS x FROM networks WHERE id = ?', [n.id]);
          if (found)
            db.run('UPDATE networks SET name = ?, name_en = ?, builtin = ? WHERE id = ?', [
              n.name,
              n.nameEn,
              n.builtin ? 1 : 0,
              n.id,
            ]);
          else
            db.run('INSERT INTO networks (id, name, name_en, builtin) VALUES (?, ?, ?, ?)', [
              n.id,
              n.name,
              n.nameEn,
              n.builtin ? 1 : 0,
            ]);
        }
      });
      cache = null;
    },
    insert(n) {
      db.run('INSERT INTO networks (id, name, name_en, builtin) VALUES (?, ?, ?, 0)', [n.id, n.name, n.nameEn]);
      cache = null;
      return { ...n, builtin: false };
    },
    rename(id, names) {
      if (names.name !== undefined) db.run('UPDATE networks SET name = ? WHERE id = ?', [names.name, id]);
      if (names.nameEn !== undefined) db.run('UPDATE networks SET name_en = ? WHERE id = ?', [names.nameEn, id]);
      cache = null;
      return all().find((n) => n.id === id);
    },
    pointCount: (id) =>
      db.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points WHERE network_id = ?', [id])?.n ?? 0,
    delete(id) {
      const gone = db.run('DELETE FROM networks WHERE id = ? AND builtin = 0', [id]).changes > 0;
      cache = null;
      return gone;
    },
  };
}
