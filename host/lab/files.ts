// Where an experiment keeps its results: one CSV of runs and one HTML report
// in the output folder, the detail tables the report also draws under
// details/, and the workers' notes in experiment.log.
import { join } from 'node:path';
import { DEVICE_COLUMNS, RESULT_COLUMNS, STAGE_COLUMNS, TRACE_COLUMNS } from './run-one.ts';

export const RESULTS_CSV = 'results.csv';
export const REPORT_HTML = 'report.html';
export const LOG_FILE = 'experiment.log';

/** The detail tables: file under details/ and its columns, keyed like RunOutcome's fields. */
export const DETAILS = {
  devices: { file: 'devices.csv', columns: DEVICE_COLUMNS },
  trace: { file: 'trace.csv', columns: TRACE_COLUMNS },
  stages: { file: 'stages.csv', columns: STAGE_COLUMNS },
} as const;

export type DetailName = keyof typeof DETAILS;
export const DETAIL_NAMES = Object.keys(DETAILS) as DetailName[];

export const resultsFile = (dir: string) => join(dir, RESULTS_CSV);
export const detailFile = (dir: string, name: DetailName) => join(dir, 'details', DETAILS[name].file);
export { RESULT_COLUMNS };
