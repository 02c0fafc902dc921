/** A byte count as a person reads it: 12 KiB, 25.0 MiB. */
export const formatBytes = (bytes: number): string =>
  bytes < 1048576 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
