// Draws the mock provider's pictures: a character silhouette whose colours come from the prompt, the slot
// number in large seven-segment digits, so that four slots of one prompt are told apart at a glance.
import { createHash } from "node:crypto";
import sharp from "sharp";
import type { AspectRatio } from "../types.ts";

const SIZES: Record<AspectRatio, [number, number]> = {
  "1:1": [1024, 1024],
  "9:16": [768, 1344],
  "16:9": [1344, 768],
  "3:4": [896, 1184],
  "4:3": [1184, 896],
};

// Segments a–g of a seven-segment digit, as [x, y, w, h] in a 6×10 box.
const SEGMENTS: Record<string, [number, number, number, number]> = {
  a: [1, 0, 4, 1],
  b: [5, 1, 1, 4],
  c: [5, 5, 1, 4],
  d: [1, 9, 4, 1],
  e: [0, 5, 1, 4],
  f: [0, 1, 1, 4],
  g: [1, 4.5, 4, 1],
};
const DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"];

function digitSvg(digit: number, x: number, y: number, unit: number, colour: string): string {
  return [...(DIGITS[digit] ?? "")]
    .map((s) => {
      const [sx, sy, w, h] = SEGMENTS[s] as [number, number, number, number];
      return `<rect x="${x + sx * unit}" y="${y + sy * unit}" width="${w * unit}" height="${h * unit}" rx="${unit / 3}" fill="${colour}"/>`;
    })
    .join("");
}

export async function renderMockImage(
  prompt: string,
  slot: number,
  aspectRatio: AspectRatio,
): Promise<Buffer> {
  const [width, height] = SIZES[aspectRatio];
  const hash = createHash("sha256").update(prompt).digest();
  const hue = ((hash[0] ?? 0) * 360) / 256;
  const slotHue = (hue + slot * 70) % 360;
  const bg1 = `hsl(${hue.toFixed(0)},55%,${25 + ((hash[1] ?? 0) % 20)}%)`;
  const bg2 = `hsl(${slotHue.toFixed(0)},65%,60%)`;
  const body = `hsl(${((hue + 180) % 360).toFixed(0)},45%,${30 + ((hash[2] ?? 0) % 30)}%)`;
  const cx = width / 2;
  const s = Math.min(width, height) / 1024;
  const unit = 28 * s;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="${bg1}"/><stop offset="1" stop-color="${bg2}"/></linearGradient></defs>
  <rect width="100%" height="100%" fill="url(#bg)"/>
  <ellipse cx="${cx}" cy="${height * 0.34}" rx="${120 * s}" ry="${140 * s}" fill="${body}"/>
  <path d="M ${cx - 260 * s} ${height} Q ${cx - 240 * s} ${height * 0.52} ${cx} ${height * 0.5}
           Q ${cx + 240 * s} ${height * 0.52} ${cx + 260 * s} ${height} Z" fill="${body}"/>
  <circle cx="${cx - 45 * s}" cy="${height * 0.33}" r="${14 * s}" fill="${bg2}"/>
  <circle cx="${cx + 45 * s}" cy="${height * 0.33}" r="${14 * s}" fill="${bg2}"/>
  <rect x="${24 * s}" y="${24 * s}" width="${unit * 8}" height="${unit * 12}" rx="${unit}" fill="rgba(0,0,0,0.55)"/>
  ${digitSvg(slot % 10, 24 * s + unit, 24 * s + unit, unit, "#ffffff")}
</svg>`;
  return sharp(Buffer.from(svg)).png({ compressionLevel: 6 }).toBuffer();
}
