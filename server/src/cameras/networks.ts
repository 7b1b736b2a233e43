import type { Store } from '../db/store.ts';

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
  /** Reads the networks into memory (`sync` does too); before it, `all` and `has` throw. */
  load(): Promise<void>;
  all(): Network[];
  has(id: string): boolean;
  /** Makes the table hold exactly the built-in and configured networks (points keep theirs). */
  sync(networks: readonly Network[]): Promise<void>;
  /** A network an admin adds in the console (never built in). */
  insert(n: { id: string; name: string; nameEn: string }): Promise<Network>;
  rename(id: string, names: { name?: string; nameEn?: string }): Promise<Network | undefined>;
  /** Points on the network in the whole registry (a network is county-wide). */
  pointCount(id: string): Promise<number>;
  delete(id: string): Promise<boolean>;
}

/**
 * Held in memory (read on every registry write and list): read at start and after each write here. An admin's
 * edit on another instance shows here after this instance's next write or restart.
 */
export function createNetworkRepo(store: Store): NetworkRepo {
  let cache: Network[] | null = null;
  const load = async () => {
    cache = (
      await store.all<{ id: string; name: string; name_en: string; builtin: number | boolean }>(
        'SELECT id, name, name_en, builtin FROM networks ORDER BY builtin DESC, id',
      )
    ).map((r) => ({ id: r.id, name: r.name, nameEn: r.name_en, builtin: Number(r.builtin) === 1 }));
  };
  const all = () => {
    if (!cache) throw new Error('networks read before load()');
    return cache;
  };
  return {
    load,
    all,
    has: (id) => all().some((n) => n.id === id),
    async sync(networks) {
      // One upsert per network: two instances starting at once on one database both write it, neither fails.
      await store.transaction(async () => {
        for (const n of networks)
          await store.run(
            `INSERT INTO networks (id, name, name_en, builtin) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, builtin = excluded.builtin`,
            [n.id, n.name, n.nameEn, n.builtin ? 1 : 0],
          );
      });
      await load();
    },
    async insert(n) {
      await store.run('INSERT INTO networks (id, name, name_en, builtin) VALUES (?, ?, ?, 0)', [
        n.id,
        n.name,
        n.nameEn,
      ]);
      await load();
      return { ...n, builtin: false };
    },
    async rename(id, names) {
      if (names.name !== undefined) await store.run('UPDATE networks SET name = ? WHERE id = ?', [names.name, id]);
      if (names.nameEn !== undefined)
        await store.run('UPDATE networks SET name_en = ? WHERE id = ?', [names.nameEn, id]);
      await load();
      return all().find((n) => n.id === id);
    },
    pointCount: async (id) =>
      (await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM camera_points WHERE network_id = ?', [id]))?.n ?? 0,
    async delete(id) {
      const gone = (await store.run('DELETE FROM networks WHERE id = ? AND builtin = 0', [id])).changes > 0;
      await load();
      return gone;
    },
  };
}
