import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

/** A pipeline's table against its contract: loads into a table out of date, `inlet plan` and `inlet apply`. */
export const tableCodes = {
  title: 'Tables and their contracts',
  intro:
    "A pipeline's live table no longer matches its contract (an edited `columns` list, a table changed by " +
    'hand). `inlet plan` shows the DDL that reconciles them and `inlet apply` runs it ([cli.md](cli.md#inlet-plan)).',
  codes: {
    table_mismatch: {
      meaning:
        "The pipeline's table does not have the shape its contract loads into: a contract column is missing, has another type (the same type at another length or precision, or text and varchar for each other, still load) or is NOT NULL where the contract allows empty values. Nothing was loaded; the ingestion is `failed`. The message names each column.",
      action:
        'Run `inlet plan` to see the DDL that reconciles the table with the contract, and `inlet apply` to run it (or fix the contract); then send the file again.',
      doors: INGESTING_DOORS,
    },
    evolve_type_conflict: {
      meaning:
        'Under `onDrift: evolve`, a file has a column the contract lacks, and the table already has a column of the name Inlet would give it, of another kind of type than the one inferred from the file (`text` where the file holds whole numbers). The table column is not reused (that would be a silent cast) and nothing was loaded; the ingestion is `failed`. A table column of the same kind is used, with its own type.',
      action:
        "List the column in the pipeline's `columns` with the table's type (or rename or drop the table's column), then send the file again.",
      doors: INGESTING_DOORS,
    },
    lock_timeout: {
      meaning:
        '`inlet apply` could not lock a table within its lock timeout: a load or another transaction holds it. Nothing was changed.',
      action: 'Run `inlet apply` again once the load is done, or wait longer with `--lock-timeout`.',
      doors: ['cli'],
    },
    plan_changed: {
      meaning:
        '`inlet apply` planned again under the table lock and found other changes than the plan it printed (the table or its data changed in between). Nothing was changed.',
      action: 'Run `inlet plan` to see the new plan, then `inlet apply` again.',
      doors: ['cli'],
    },
    changes_refused: {
      meaning:
        '`inlet apply` left out changes it will not make on its own: destructive ones (a drop, a narrowing, a type change that can lose values) without `--allow-destructive`, or ones the data blocks (SET NOT NULL over NULLs). The others were applied.',
      action:
        'Read what each would lose; rerun with `--allow-destructive` if that is meant, or change the data or the contract.',
      doors: ['cli'],
    },
    confirmation_required: {
      meaning:
        '`inlet apply` has changes to make but no terminal to ask on (CI, a pipe) and no `--yes`. Nothing was changed.',
      action: 'Run `inlet plan` to review, then `inlet apply --yes`.',
      doors: ['cli'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
