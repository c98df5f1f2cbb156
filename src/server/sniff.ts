/**
 * Content sniffing for uploads: the first bytes must be what the pipeline reads, judged by magic bytes
 * (after gzip, deflate, brotli or a single-file zip, which the engine undoes too), so a PNG sent as `orders.csv` is refused with 415 before it
 * is stored, rather than accepted and rejected later.
 */

import { FormatError } from '../errors.js';
import { decompressHead, detectCompression, detectFormat } from '../formats/detect.js';
import type { Pipeline } from '../model/contract.js';
import { HttpError } from './http-error.js';

/** Enough for detectFormat's look at the content, and for a gzip header and its first block. */
export const SNIFF_BYTES = 8192;

/** Throws a 415 HttpError when the head of an upload cannot be the pipeline's format. */
export function sniffUpload(head: Uint8Array, name: string, pipeline: Pipeline): void {
  let content: Uint8Array | undefined;
  let innerName = name;
  let compression = 'none';
  try {
    // A prefix of a compressed stream: flush what it holds instead of demanding the end.
    const decoded = decompressHead(head, name, pipeline.compression ?? 'auto', pipeline.format);
    compression = decoded.compression;
    content = decoded.content?.subarray(0, SNIFF_BYTES);
    innerName = decoded.name;
  } catch (error) {
    throw new HttpError(
      'unsupported_media_type',
      `${name} starts like ${detectCompression(head, name, pipeline.compression ?? 'auto', pipeline.format)} data but its first bytes do not decompress: ${(error as Error).message}. ` +
        'Send the file as it was compressed, or uncompressed.',
      { cause: error },
    );
  }
  // The head of a zip entry or brotli stream may not be in the first bytes: the engine judges it then.
  if (content === undefined && compression !== 'none') return;
  try {
    detectFormat(content ?? head, innerName, pipeline.format);
  } catch (error) {
    if (error instanceof FormatError) {
      throw new HttpError('unsupported_media_type', `${name}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Passes a body through unchanged while holding back its first `SNIFF_BYTES` until they have been
 * judged, so nothing of a refused upload is written.
 */
export async function* sniffed(
  body: AsyncIterable<Uint8Array>,
  judge: (head: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let judged = false;
  for await (const chunk of body) {
    if (judged) {
      yield chunk;
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.byteLength;
    if (heldBytes >= SNIFF_BYTES) {
      judged = true;
      const head = Buffer.concat(held);
      judge(head.subarray(0, SNIFF_BYTES));
      held.length = 0;
      yield head;
    }
  }
  if (!judged) {
    const head = Buffer.concat(held);
    // An empty body is left to the engine, which rejects it with the reason a person expects.
    if (head.byteLength > 0) judge(head);
    if (head.byteLength > 0) yield head;
  }
}
