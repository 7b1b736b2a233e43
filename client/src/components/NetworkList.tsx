import type { NetworkView } from '@api/contract.ts';
import { useI18n } from '../i18n.tsx';
import { networkColor } from '../networkColors.ts';

interface NetworkListProps {
  networks: readonly NetworkView[];
  selectedId: string | null;
  onSelect: (id: string | null) => void;
}

export function networkLabel(network: NetworkView, lang: string): string {
  return lang === 'en' ? network.nameEn : network.name;
}

export function NetworkList({ networks, selectedId, onSelect }: NetworkListProps) {
  const { t, lang } = useI18n();
  const ids = networks.map((n) => n.id);
  return (
    <div className="side-list">
      <button
        type="button"
        className={`side-list__all ${selectedId === null ? 'side-list__all--selected' : ''}`}
        onClick={() => onSelect(null)}
      >
        {t('registry.allNetworks')}
      </button>
      <ul className="network-list">
        {networks.map((network) => {
          const rate = network.cameraCount > 0 ? network.onlineCount / network.cameraCount : 0;
          return (
            <li key={network.id}>
              <button
                type="button"
                className={`network-row ${selectedId === network.id ? 'network-row--selected' : ''}`}
                onClick={() => onSelect(selectedId === network.id ? null : network.id)}
              >
                <span className="swatch" style={{ background: networkColor(network.id, ids) }} />
                <span className="network-row__name">{networkLabel(network, lang)}</span>
                <span
                  className="count"
                  title={t('registry.onlineOfTitle', { online: network.onlineCount, total: network.cameraCount })}
                >
                  {t('registry.onlineOf', { online: network.onlineCount, total: network.cameraCount })}
                </span>
                <span className="rate-bar" aria-hidden="true">
                  <span style={{ width: `${Math.round(rate * 100)}%` }} />
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
