import { loadOptionalConfig } from '../../config/load.js';
import { createTargetTable } from '../../engine/create-table.js';
import { withDatabase } from '../database.js';
import { cliLogger, print } from '../output.js';
import { namedConfig } from '../settings.js';

interface MigrateOptions {
  config?: string;
  databaseUrl?: string;
}

export async function runMigrate(options: MigrateOptions): Promise<number> {
  const logger = cliLogger();
  // Tables come from a config when one is named, or when the default file is there; the schema needs none.
  const config = await loadOptionalConfig(namedConfig(options.config));
  await withDatabase({ databaseUrl: options.databaseUrl, logger, migrate: true }, async (db) => {
    await print(
      db.applied.length === 0
        ? 'schema inlet is up to date'
        : `applied migration${db.applied.length === 1 ? '' : 's'} ${db.applied.join(', ')}`,
    );
    for (const pipeline of config?.pipelines ?? []) {
      if (!pipeline.createTable) continue;
      if (pipeline.columns.length === 0) {
        await print(
          `table ${pipeline.table.schema}.${pipeline.table.name} comes with the contract inferred from the first file (pipeline ${pipeline.name})`,
        );
        continue;
      }
      await createTargetTable(db.pool, pipeline);
      await print(`table ${pipeline.table.schema}.${pipeline.table.name} ready (pipeline ${pipeline.name})`);
    }
  });
  return 0;
}
