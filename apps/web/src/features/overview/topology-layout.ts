export interface Point {
  x: number;
  y: number;
}

/**
 * Where to draw n switches: one in the middle, two side by side, more on a circle starting at
 * the top, so every backbone link (one per pair) stays visible.
 */
export function layoutNodes(count: number, width: number, height: number, margin: number): Point[] {
  const cx = width / 2;
  const cy = height / 2;
  if (count === 1) return [{ x: cx, y: cy }];
  if (count === 2)
    return [
      { x: margin, y: cy },
      { x: width - margin, y: cy },
    ];
  const radius = Math.min(width, height) / 2 - margin;
  return Array.from({ length: count }, (_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
    return { x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle) };
  });
}

/** Every unordered pair of indexes: the full mesh of backbone links. */
export function pairs(count: number): [number, number][] {
  const result: [number, number][] = [];
  for (let a = 0; a < count; a++) for (let b = a + 1; b < count; b++) result.push([a, b]);
  return result;
}
