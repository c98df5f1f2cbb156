import { describe, expect, it } from 'vitest';
import { CopyTextBuffer } from '../../../src/engine/copy-text.js';

/**
 * take() hands the accumulated bytes out; recycle() gives a handed-out chunk back once its bytes are sent,
 * and the next take() writes into that memory instead of a new buffer. What was handed out and not given
 * back must never be written again.
 */
describe('CopyTextBuffer.take and recycle', () => {
  const fill = (out: CopyTextBuffer, byte: number, count: number) => {
    out.ensure(count);
    out.buf.fill(byte, out.pos, out.pos + count);
    out.pos += count;
  };

  it('never writes into a chunk it handed out until that chunk is given back', () => {
    const out = new CopyTextBuffer(1024);
    fill(out, 1, 600);
    const first = out.take();
    fill(out, 2, 600);
    const second = out.take();
    fill(out, 3, 600);
    expect(first.every((b) => b === 1)).toBe(true);
    expect(second.every((b) => b === 2)).toBe(true);
    expect(first.buffer).not.toBe(second.buffer);
    expect(out.buf.buffer).not.toBe(first.buffer);
    expect(out.buf.buffer).not.toBe(second.buffer);
  });

  it('writes the chunk after next into the memory of a chunk given back', () => {
    const out = new CopyTextBuffer(1024);
    fill(out, 1, 600);
    const first = out.take();
    out.recycle(first);
    fill(out, 2, 600);
    const second = out.take();
    // The buffer being filled when `first` came back is taken as it is; the one after reuses `first`'s memory.
    expect(second.buffer).not.toBe(first.buffer);
    expect(out.buf.buffer).toBe(first.buffer);
    fill(out, 3, 10);
    expect(second.every((b) => b === 2)).toBe(true);
  });

  it('ignores what it did not hand out whole: a slice, the buffer being filled, or a smaller buffer', () => {
    const out = new CopyTextBuffer(1024);
    fill(out, 1, 100);
    out.recycle(out.buf.subarray(10, 20));
    out.recycle(out.buf);
    out.recycle(Buffer.alloc(16));
    const taken = out.take();
    expect(out.buf.buffer).not.toBe(taken.buffer);
    expect(out.buf.length).toBe(1024);
  });
});
