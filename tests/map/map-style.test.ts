/**
 * The generated basemap's style (client/src/components/mapStyle.ts): its fills are opaque and drawn without an
 * outline pass, so maplibre draws them in its opaque pass with no blending (issue 15: fewer pipelines and less
 * fill work under software WebGL), and the composed colours are what the translucent layers showed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FillLayerSpecification } from 'maplibre-gl';
import type { MapConfig } from '../../server/src/api/contract.ts';
import { buildMapStyle, over } from '../../client/src/components/mapStyle.ts';

describe('generated basemap style', () => {
  beforeAll(() => vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1:1' } }));
  afterAll(() => vi.unstubAllGlobals());

  it('composes a colour at an opacity over another', () => {
    expect(over('#ffffff', 1, '#000000')).toBe('#ffffff');
    expect(over('#ffffff', 0, '#102030')).toBe('#102030');
    expect(over('#12253a', 0.85, '#0e1c2b')).toBe('#112438');
    expect(over('#16304a', 0.45, '#112438')).toBe('#132940');
  });

  it('draws every fill opaque (colour alpha 1, opacity 1) and without antialiased outlines', () => {
    const style = buildMapStyle({ basemap: { type: 'generated' } } as unknown as MapConfig);
    if (typeof style === 'string') throw new Error('a generated basemap is a style object');
    const fills = style.layers.filter((l): l is FillLayerSpecification => l.type === 'fill');
    expect(fills.map((l) => l.id)).toEqual(['county-fill', 'township-fill', 'village-fill', 'water-fill']);
    for (const l of fills) {
      expect(l.paint?.['fill-opacity'] ?? 1, l.id).toBe(1);
      expect(l.paint?.['fill-color'], l.id).toMatch(/^#[0-9a-f]{6}$/);
      expect(l.paint?.['fill-antialias'], l.id).toBe(false);
    }
  });
});
