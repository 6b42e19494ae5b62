// Joining the results of several shards (or machines) into one folder: the
// results CSVs and their detail tables, each run once. Shards of one sweep
// never share a run id; the same id in two folders is the same run twice
// (a shard run again elsewhere) and its first copy is kept.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv, writeCsv } from './csv.ts';
import { DETAIL_NAMES, DETAILS, detailFile, RESULT_COLUMNS, resultsFile } from './files.ts';

export interface MergeSummary {
  out: string;
  runs: number;
  /** Runs found in more than one folder (the first copy is kept). */
  duplicates: number;
}

export function mergeResults(dirs: string[], out: string): MergeSummary {
  if (dirs.length === 0) throw new Error('merge needs at least one results folder');
  const rows = [];
  const from = new Map<string, string>();
  let duplicates = 0;
  for (const dir of dirs) {
    const file = resultsFile(dir);
    const { columns, rows: mine } = readCsv(file);
    if (!mine.length) throw new Error(`${file}: no results (is ${dir} an experiment's --out folder?)`);
    if (columns.join(',') !== RESULT_COLUMNS.join(',')) throw new Error(`${file} has other columns than this version writes`);
    for (const r of mine) {
      if (from.has(r.run_id)) {
        duplicates++;
        continue;
      }
      from.set(r.run_id, dir);
      rows.push(r);
    }
  }
  mkdirSync(join(out, 'details'), { recursive: true });
  for (const name of DETAIL_NAMES) {
    // A run's details come from the folder its row came from.
    const merged = dirs.flatMap((dir) => readCsv(detailFile(dir, name)).rows.filter((r) => from.get(r.run_id) === dir));
    writeCsv(detailFile(out, name), DETAILS[name].columns, merged);
  }
  writeCsv(resultsFile(out), RESULT_COLUMNS, rows);
  return { out, runs: rows.length, duplicates };
}
