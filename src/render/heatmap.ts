import type { RgbImage } from '../util/image.js';

/**
 * A saliency map laid over the image it explains: each grid cell covers its share of the image,
 * coloured from transparent (0) through red to yellow (1), so a 7×7 CNN map and a 14×14 ViT map
 * show their coarseness as they are. Plain pixels in, plain pixels out.
 */
export function heatmapOverlay(image: RgbImage, values: readonly (readonly number[])[], opacity = 0.6): RgbImage {
  const rows = values.length;
  const cols = values[0]?.length ?? 0;
  const data = Buffer.from(image.data);
  for (let y = 0; y < image.height; y += 1) {
    const row = values[Math.min(rows - 1, Math.floor((y * rows) / image.height))] ?? [];
    for (let x = 0; x < image.width; x += 1) {
      const value = Math.min(1, Math.max(0, row[Math.min(cols - 1, Math.floor((x * cols) / image.width))] ?? 0));
      const alpha = opacity * value;
      // Red rising to yellow: (255, 255·v, 0).
      const heat = [255, 255 * value, 0];
      const at = (y * image.width + x) * 3;
      for (let c = 0; c < 3; c += 1) data[at + c] = Math.round(data[at + c]! * (1 - alpha) + heat[c]! * alpha);
    }
  }
  return { data, width: image.width, height: image.height };
}
