export interface PatchGrid {
  imageSize: { width: number; height: number };
  patchSize: number;
  columns: number;
  rows: number;
  patches: number;
  /** Patch tokens plus the [CLS] token the classifier reads. */
  tokens: number;
  valuesPerPatch: number;
  summary: string;
}

/** How a ViT turns its input into tokens: non-overlapping patches, each flattened, plus one class token. */
export function patchGrid(imageSize: { width: number; height: number }, patchSize: number): PatchGrid {
  const columns = Math.floor(imageSize.width / patchSize);
  const rows = Math.floor(imageSize.height / patchSize);
  const patches = columns * rows;
  const valuesPerPatch = patchSize * patchSize * 3;
  return {
    imageSize,
    patchSize,
    columns,
    rows,
    patches,
    tokens: patches + 1,
    valuesPerPatch,
    summary:
      `${imageSize.width}×${imageSize.height} → ${columns}×${rows} = ${patches} patches of ${patchSize}×${patchSize}×3 ` +
      `(${valuesPerPatch} numbers each) + 1 class token = ${patches + 1} tokens`,
  };
}
