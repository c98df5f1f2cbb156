/** The content create-once-child.ts gives its file `i`: 4 MiB, so that writing it takes long enough to be cut. */
export function createOncePayload(i: number): Buffer {
  const bytes = Buffer.alloc(4 << 20, i % 251);
  bytes.writeUInt32BE(i, 0);
  return bytes;
}
