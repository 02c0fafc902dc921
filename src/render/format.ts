export const percent = (score: number): string => `${(score * 100).toFixed(1)}%`;
export const ms = (value: number): string => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`);

/** A fixed-width text table for the terminal. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** A short text bar for embeds and terminals, 0..1 mapped onto `width` blocks. */
export function bar(score: number, width = 12): string {
  const filled = Math.round(Math.max(0, Math.min(1, score)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * How a batch ran, as replies state it: "batch 11", or, for a dynamically quantized model
 * (which runs each input alone so that its answer does not depend on the others),
 * "batch 11, each input run alone".
 */
export const batchNote = (timings: { batchSize: number; sessionRuns: number }): string =>
  timings.sessionRuns > 1 ? `batch ${timings.batchSize}, each input run alone` : `batch ${timings.batchSize}`;
