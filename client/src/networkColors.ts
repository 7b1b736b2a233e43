/**
 * Map colours per camera network. The five networks a county usually has get
 * fixed, well-separated colours so that a duty officer learns them once;
 * any other network takes the next colour of a spare palette.
 */
const KNOWN: Record<string, string> = {
  xueliang: '#38bdf8', // 雪亮 Sharp Eyes — sky blue
  tianwang: '#c084fc', // 天网 Skynet — violet
  traffic: '#facc15', // 智慧交通 — amber
  urban: '#4ade80', // 数字城管 — green
  huiyan: '#fb923c', // 慧眼 — orange
};

const SPARE = ['#f472b6', '#2dd4bf', '#a3e635', '#e879f9', '#fca5a5', '#93c5fd'];

export function networkColor(networkId: string, allNetworkIds: readonly string[] = []): string {
  const known = KNOWN[networkId];
  if (known) return known;
  const unknown = allNetworkIds.filter((id) => !(id in KNOWN));
  const index = Math.max(0, unknown.indexOf(networkId));
  return SPARE[index % SPARE.length] ?? '#94a3b8';
}
