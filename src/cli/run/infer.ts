import { InvalidArgumentError } from 'commander';
import { proposePipeline } from '../../infer/propose.js';
import type { FormatName } from '../../model/contract.js';
import { openSource } from '../ingest-files.js';
import { write } from '../output.js';

interface InferOptions {
  table?: string;
  sample?: number;
  format?: FormatName;
  sheet?: string;
  headerRow?: number;
}

export async function runInfer(file: string, options: InferOptions): Promise<number> {
  const sheet =
    options.sheet === undefined
      ? undefined
      : /^\d+$/.test(options.sheet)
        ? Number(options.sheet)
        : options.sheet;
  if (sheet === 0) throw new InvalidArgumentError('--sheet: sheet numbers start at 1');
  const proposal = await proposePipeline(await openSource(file), {
    ...(options.table === undefined ? {} : { table: options.table }),
    ...(options.sample === undefined ? {} : { sampleRows: options.sample }),
    ...(options.format === undefined ? {} : { format: options.format }),
    ...(sheet === undefined && options.headerRow === undefined
      ? {}
      : {
          xlsx: {
            ...(sheet === undefined ? {} : { sheet }),
            ...(options.headerRow === undefined ? {} : { headerRow: options.headerRow }),
          },
        }),
  });
  await write(proposal.yaml);
  return 0;
}
