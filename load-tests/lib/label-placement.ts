/**
 * Where to write each point's label in a small scatter so that no two labels overlap and no label
 * covers another point: each label tries the corners around its point in turn (above right, below
 * right, above left, below left) and takes the first free one. Positions are estimated in pixels
 * from the data's extent (the axis a chart draws is at least as wide, so real gaps are no smaller),
 * with a label's width from its length at a 10 px font.
 */

/** The four corners a label may take, in the order they are tried. */
export const LABEL_CORNERS = ['above-right', 'below-right', 'above-left', 'below-left'] as const;
export type LabelCorner = (typeof LABEL_CORNERS)[number];

/** Offsets of a label's anchor from its point, px, and its text alignment, per corner. */
export const CORNER_OFFSET: Record<LabelCorner, { dx: number; dy: number; align: 'left' | 'right' }> = {
  'above-right': { dx: 7, dy: -7, align: 'left' },
  'below-right': { dx: 7, dy: 14, align: 'left' },
  'above-left': { dx: -7, dy: -7, align: 'right' },
  'below-left': { dx: -7, dy: 14, align: 'right' },
};

const CHAR_PX = 6.2;
const TEXT_PX = 11;
const POINT_PX = 6;

interface Box {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** 0–1 across `[lo, hi]`, logarithmically when `log`. */
function fraction(v: number, lo: number, hi: number, log: boolean): number {
  if (log) return hi > lo ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : 0.5;
  return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

/**
 * The corner of each point's label (`points[i]` gets `result[i]`), on a plot `width` × `height` px
 * whose axes span `xDomain` and `yDomain` (log axes when `logX` / `logY`).
 */
export function placeLabels(
  points: readonly { x: number; y: number; label: string }[],
  plot: {
    width: number;
    height: number;
    xDomain: readonly [number, number];
    yDomain: readonly [number, number];
    logX: boolean;
    logY: boolean;
  },
): LabelCorner[] {
  const px = points.map((p) => ({
    x: fraction(p.x, ...plot.xDomain, plot.logX) * plot.width,
    y: (1 - fraction(p.y, ...plot.yDomain, plot.logY)) * plot.height,
  }));
  const taken: Box[] = px.map((p) => ({
    x0: p.x - POINT_PX,
    x1: p.x + POINT_PX,
    y0: p.y - POINT_PX,
    y1: p.y + POINT_PX,
  }));
  return points.map((p, i) => {
    const at = px[i]!;
    const width = p.label.length * CHAR_PX;
    const boxAt = (corner: LabelCorner): Box => {
      const { dx, dy, align } = CORNER_OFFSET[corner];
      const x0 = align === 'left' ? at.x + dx : at.x + dx - width;
      // dy is the text's baseline: the text rises TEXT_PX above it.
      return { x0, x1: x0 + width, y0: at.y + dy - TEXT_PX, y1: at.y + dy };
    };
    const inside = (b: Box) => b.x0 >= 0 && b.x1 <= plot.width + 40 && b.y0 >= -10 && b.y1 <= plot.height;
    const free = LABEL_CORNERS.find((c) => {
      const b = boxAt(c);
      return inside(b) && taken.every((t, j) => j === i || !overlaps(b, t));
    });
    const corner = free ?? 'above-right';
    taken.push(boxAt(corner));
    return corner;
  });
}
