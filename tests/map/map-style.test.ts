/**
 * The generated basemap's layers (client/src/map/basemapLayers.ts): its fills are opaque and drawn
 * without an outline pass, so maplibre draws them in its opaque pass with no blending (issue 15: fewer
 * pipelines and less fill work under software WebGL), and the composed colours are what the translucent
 * layers showed.
 */
import { describe, expect, it } from 'vitest';
import type { FillLayerSpecification } from 'maplibre-gl';
import { generatedLayers, over } from '../../client/src/map/basemapLayers.ts';

describe('generated basemap layers', () => {
  it('composes a colour at an opacity over another', () => {
    expect(over('#ffffff', 1, '#000000')).toBe('#ffffff');
    expect(over('#ffffff', 0, '#102030')).toBe('#102030');
    expect(over('#12253a', 0.85, '#0e1c2b')).toBe('#112438');
    expect(over('#16304a', 0.45, '#112438')).toBe('#132940');
  });

  it('draws every fill opaque (colour alpha 1, opacity 1) and without antialiased outlines', () => {
    const fills = generatedLayers().filter((l): l is FillLayerSpecification => l.type === 'fill');
    expect(fills.map((l) => l.id)).toEqual(['county-fill', 'township-fill', 'village-fill', 'water-fill']);
    for (const l of fills) {
      expect(l.paint?.['fill-opacity'] ?? 1, l.id).toBe(1);
      expect(l.paint?.['fill-color'], l.id).toMatch(/^#[0-9a-f]{6}$/);
      expect(l.paint?.['fill-antialias'], l.id).toBe(false);
    }
  });
});
