import type { RawData } from 'ws';

/** A WebSocket message as one Buffer, whichever of ws's shapes (Buffer, fragments, ArrayBuffer) it came in. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
