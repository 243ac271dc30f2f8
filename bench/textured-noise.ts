// A realistic stand-in for a model's output: 1024×1024 PNG of fine noise over a gradient, about 1.3 MB.
import sharp from "sharp";

export async function texturedNoise(size = 1024): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  let seed = 12345;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = ((seed >> 16) & 0x07) + ((i / 3) % size) / 8 + 40;
  }
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .blur(1)
    .png()
    .toBuffer();
}
