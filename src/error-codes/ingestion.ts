import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

/** Outcomes of an ingestion that are not about the file's bytes: routing, the ledger, the environment. */
export const ingestionCodes = {
  title: 'Ingestions',
  intro:
    'Verdicts about where a file goes and whether Inlet could record it, rather than about its bytes. They are ' +
    'in the ledger (`error_code`), in `inlet ingest --json` and `GET /v1/ingestions/{id}` as `error.code`. A ' +
    "`failed` ingestion is the environment's fault and is retried (the upload workers and Lambda do so on " +
    'their own); `inlet ingest` exits 1.',
  codes: {
    superseded: {
      meaning:
        'A newer version of the same object is already loaded (`upsert` and `replace` pipelines), so this older one was skipped; ledger status `superseded`.',
      action: 'Nothing: the newer version is the one that counts.',
      doors: INGESTING_DOORS,
    },
    no_pipeline: {
      meaning:
        "No pipeline's `match` takes the file's name. At upload this is a 422; a spooled file whose pipeline was removed from the config before it was loaded is `rejected` with it.",
      action:
        'Rename the file, add a pipeline whose `match` takes it, or name the pipeline (`--pipeline`, `?pipeline=`).',
      http: 422,
      doors: INGESTING_DOORS,
    },
    unknown_pipeline: {
      meaning: '`--pipeline` or `?pipeline=` names a pipeline the config does not have.',
      action: 'Use one of the pipeline names the message lists.',
      http: 422,
      doors: ['cli', 'upload'],
    },
    stored_contract_invalid: {
      meaning:
        'The contract stored for an `infer: true` pipeline (inlet.contracts) has a column type this Inlet cannot read: another version wrote it, or it was edited.',
      action: 'Run the version of Inlet that wrote it, or list the columns in the pipeline.',
      doors: INGESTING_DOORS,
    },
    ledger_unwritable: {
      meaning:
        'The file was decided (rejected, superseded…), but the ledger could not record the verdict, so the ingestion is reported `failed` and is tried again.',
      action: 'Check that PostgreSQL is up and accepts writes to inlet.ingestions.',
      doors: INGESTING_DOORS,
    },
    database_refused: {
      meaning:
        "PostgreSQL refused the file's rows: a constraint, a missing table or column, or an upsert without a unique index on the key. Nothing was loaded; the ingestion is `failed`.",
      action:
        'Do what the message says: create the table (or set `createTable: true`), fix the contract, the data or the constraints.',
      doors: INGESTING_DOORS,
    },
    not_processed: {
      meaning: 'An upload ended `failed` in the spool without a verdict from the engine.',
      action: "The server log says why; the file's bytes are kept in the spool's failed/ folder.",
      doors: ['upload'],
    },
    spool_entry_unreadable: {
      meaning:
        "An upload's spool entry could not be read back (its sidecar is damaged), so nothing was loaded.",
      action:
        "Check the spool volume, then upload the file again; what is left of it is in the spool's failed/ folder.",
      doors: ['upload'],
    },
    handover_failed: {
      meaning:
        'An object too big for the Lambda function could not be handed to a container: ECS RunTask (or, locally, the child `inlet ingest`) failed or was refused.',
      action:
        "Nothing if it passes (the message is delivered again); otherwise check the function's log, the task definition, the cluster's capacity and the function's ecs:RunTask permission.",
      doors: ['lambda'],
    },
    object_too_large: {
      meaning:
        "An object is above every limit Inlet can load it under: too big for the Lambda function, and, spooled to the hand-over task's disk (Parquet, XLSX, zip), above INLET_TASK_MAX_BYTES. It is rejected, not retried.",
      action:
        "Raise the task definition's ephemeral storage and INLET_TASK_MAX_BYTES with it (the message gives the sizes), or split the file.",
      doors: ['lambda'],
    },
    watchdog_stopped: {
      meaning:
        "The Lambda function's deadline watchdog stopped a load that was running out of time and rolled it back, before Lambda's timeout could kill it; the object is handed to the ECS task.",
      action:
        'Nothing: the task loads it under the same ingestion. If it happens often, lower serverless.maxLambdaBytes so such objects are handed over before reading.',
      doors: ['lambda'],
    },
    objects_not_loaded: {
      meaning:
        'Invoked directly (not through SQS), the S3-event function could not load some objects for a reason that may pass, and throws so that Lambda invokes it again.',
      action: "Nothing if it passes; otherwise the message and the function's log say what failed.",
      doors: ['lambda'],
    },
    internal: {
      meaning:
        "An error Inlet did not foresee: a bug, or a failure it has no code for yet; the message is the underlying error's (the API says only that the server log has it).",
      action:
        'If the message does not say what to do, report it with the message and the log; the file can be sent again.',
      http: 500,
      doors: INGESTING_DOORS,
      formerly: ['internal_error', 'failed'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
