/** Decoded pixels as plain data: what vision produces and render draws, so neither imports the other. */
export interface RgbImage {
  /** Interleaved RGB, 8 bits per channel. */
  data: Buffer;
  width: number;
  height: number;
}
