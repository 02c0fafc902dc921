import sharp, { type OverlayOptions } from 'sharp';
import type { RgbImage } from '../vision/preprocess.js';

export interface ChartBar {
  label: string;
  score: number;
}

export interface ChartPanel {
  heading: string;
  subtitle: string;
  bars: ChartBar[];
  color: string;
}

export const PALETTE = { cnn: '#5865f2', vit: '#eb459e', clip: '#3ba55c', text: '#f2f3f5', muted: '#b5bac1', card: '#2b2d31', track: '#404249' };

const FONT = 'DejaVu Sans, Verdana, sans-serif';
const PANEL_WIDTH = 420;
const THUMB = 168;
const ROW = 40;
const HEADER = 64;
const PAD = 20;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function panelSvg(panel: ChartPanel, x: number): string {
  const barWidth = PANEL_WIDTH - 20;
  const rows = panel.bars.map((bar, index) => {
    const y = HEADER + index * ROW;
    const width = Math.max(2, Math.round(Math.max(0, Math.min(1, bar.score)) * barWidth));
    // One text run per bar (label and score together): text layout is most of the rendering cost.
    return [
      `<text x="${x}" y="${y + 12}" font-size="14" fill="${PALETTE.text}">${escapeXml(clip(bar.label, 40))}<tspan fill="${PALETTE.muted}" font-size="13">  ${(bar.score * 100).toFixed(1)}%</tspan></text>`,
      `<rect x="${x}" y="${y + 18}" width="${barWidth}" height="12" rx="6" fill="${PALETTE.track}"/>`,
      `<rect x="${x}" y="${y + 18}" width="${width}" height="12" rx="6" fill="${panel.color}"/>`,
    ].join('');
  });
  return [
    `<text x="${x}" y="${PAD + 14}" font-size="17" font-weight="bold" fill="${PALETTE.text}">${escapeXml(clip(panel.heading, 40))}</text>`,
    `<text x="${x}" y="${PAD + 34}" font-size="12" fill="${PALETTE.muted}">${escapeXml(clip(panel.subtitle, 56))}</text>`,
    ...rows,
  ].join('\n');
}

/**
 * A PNG bar chart of one or more score panels side by side, with the model's input as a
 * thumbnail. The card is opaque with light text, so it reads the same on Discord's dark and light themes.
 */
export async function renderChart(options: { panels: ChartPanel[]; thumbnail?: RgbImage | undefined }): Promise<Buffer> {
  const offset = options.thumbnail ? THUMB + PAD * 2 : PAD;
  const maxBars = Math.max(1, ...options.panels.map((panel) => panel.bars.length));
  const width = offset + options.panels.length * (PANEL_WIDTH + PAD);
  const height = Math.max(HEADER + maxBars * ROW + PAD, (options.thumbnail ? THUMB : 0) + PAD * 2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">
<rect width="${width}" height="${height}" rx="12" fill="${PALETTE.card}"/>
${options.panels.map((panel, index) => panelSvg(panel, offset + index * (PANEL_WIDTH + PAD))).join('\n')}
</svg>`;
  const layers: OverlayOptions[] = [];
  if (options.thumbnail) {
    const { data, width: w, height: h } = options.thumbnail;
    const thumb = await sharp(data, { raw: { width: w, height: h, channels: 3 } }).resize(THUMB, THUMB, { fit: 'contain', background: PALETTE.card }).raw().toBuffer({ resolveWithObject: true });
    layers.push({ input: thumb.data, raw: { width: thumb.info.width, height: thumb.info.height, channels: thumb.info.channels as 3 }, left: PAD, top: PAD });
  }
  return sharp(Buffer.from(svg)).composite(layers).png({ compressionLevel: 3 }).toBuffer();
}
