// Reads the large code digits off a token face, as a person would, without the firmware's layout
// numbers: every ink component at least `minHeightShare` of the display high is a digit; its
// seven segments are sampled at their usual places and decoded. A digit that is drawn too small,
// badly shaped or different from the expected one is therefore not read as that digit.
import type { FacePicture } from "../../hardware/sim/face-client.js";

export interface ReadDigit {
  digit: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

// bit order a b c d e f g (1, 2, 4, …, 64), as on any seven-segment display
const DIGIT_OF_SEGMENTS = new Map<number, string>(
  [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f].map((mask, digit) => [mask, String(digit)]),
);

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding boxes of the 4-connected ink components. */
function components(p: FacePicture): Box[] {
  const seen = new Uint8Array(p.ink.length);
  const boxes: Box[] = [];
  for (let start = 0; start < p.ink.length; start++) {
    if (!p.ink[start] || seen[start]) continue;
    const box = { x0: p.width, y0: p.height, x1: -1, y1: -1 };
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % p.width;
      const y = (i - x) / p.width;
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
      const next = [x > 0 ? i - 1 : -1, x < p.width - 1 ? i + 1 : -1, y > 0 ? i - p.width : -1, y < p.height - 1 ? i + p.width : -1];
      for (const n of next) if (n >= 0 && p.ink[n] && !seen[n]) (seen[n] = 1), stack.push(n);
    }
    boxes.push(box);
  }
  return boxes;
}

/** The large digits, left to right. */
export function readDigits(p: FacePicture, minHeightShare = 0.45): ReadDigit[] {
  const at = (x: number, y: number) => p.ink[Math.round(y) * p.width + Math.round(x)] === 1;
  return components(p)
    .filter((b) => b.y1 - b.y0 + 1 >= minHeightShare * p.height)
    .sort((a, b) => a.x0 - b.x0)
    .map((b) => {
      const width = b.x1 - b.x0 + 1;
      const height = b.y1 - b.y0 + 1;
      const xm = (b.x0 + b.x1) / 2;
      const upper = b.y0 + height / 4;
      const lower = b.y0 + (3 * height) / 4;
      // a lone right-hand stroke is a 1
      if (width < height / 4) return { digit: "1", x: b.x0, y: b.y0, width, height };
      const segments = [
        at(xm, b.y0),
        at(b.x1, upper),
        at(b.x1, lower),
        at(xm, b.y1),
        at(b.x0, lower),
        at(b.x0, upper),
        at(xm, b.y0 + height / 2),
      ].reduce((mask, on, i) => (on ? mask | (1 << i) : mask), 0);
      return { digit: DIGIT_OF_SEGMENTS.get(segments) ?? "?", x: b.x0, y: b.y0, width, height };
    });
}

/**
 * The code as drawn, with a space where the gap between two digit cells is clearly wider than
 * between the others ("123 456"). A 1 is a single stroke in the middle of its cell.
 */
export function readCode(p: FacePicture): string {
  const digits = readDigits(p);
  if (digits.length === 0) return "";
  const wide = digits.filter((d) => d.digit !== "1").map((d) => d.width);
  const cellWidth = wide.length ? Math.max(...wide) : Math.round(digits[0].height / 2);
  const lefts = digits.map((d) => (d.digit === "1" ? d.x + (d.width - cellWidth) / 2 : d.x));
  const steps = lefts.slice(1).map((l, i) => l - lefts[i]);
  const usual = Math.min(...steps);
  return digits.map((d, i) => (i > 0 && steps[i - 1] > usual * 1.25 ? " " : "") + d.digit).join("");
}
