/**
 * Creates files with createFileOnce (src/storage/durable.ts) under fresh names in `dir`, one after another,
 * until it is killed: the crash test kills it at random instants and checks what the names hold.
 * Usage: node --import tsx test/harness/create-once-child.ts <dir>
 */
import { join } from 'node:path';
import { createFileOnce } from '../../src/storage/durable.js';
import { createOncePayload } from './create-once-payload.js';

const dir = process.argv[2] as string;
process.stdout.write('ready\n');
for (let i = 0; i < 10_000; i++) await createFileOnce(join(dir, `file-${i}`), createOncePayload(i));
