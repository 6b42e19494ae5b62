// Reading and appending the experiment's CSV files: tidy data, one row per
// record, a header line naming the columns, written by csv-stringify and
// read back by csv-parse (so quoting of commas and newlines in error
// messages round-trips).
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Cell, Row } from './run-one.ts';

export type CsvRow = Record<string, string>;

/** The rows of a CSV file (header line first); [] when the file does not exist. */
export function readCsv(file: string): { columns: string[]; rows: CsvRow[] } {
  if (!existsSync(file)) return { columns: [], rows: [] };
  const text = readFileSync(file, 'utf8');
  if (!text.trim()) return { columns: [], rows: [] };
  let columns: string[] = [];
  const rows = parse(text, {
    columns: (header: string[]) => (columns = header),
    skip_empty_lines: true,
    relax_column_count: false,
  }) as CsvRow[];
  return { columns, rows };
}

/** Booleans as true/false (csv-stringify's default writes 1 and an empty cell). */
const OPTIONS = { cast: { boolean: (v: boolean) => String(v) } };

const cells = (columns: readonly string[], rows: Row[]): Cell[][] => rows.map((r) => columns.map((c) => r[c] ?? ''));

/** Appends rows, writing the header first when the file is new or empty; refuses a file with other columns. */
export function appendCsv(file: string, columns: readonly string[], rows: Row[]): void {
  const fresh = !existsSync(file) || readFileSync(file, 'utf8').trim() === '';
  if (fresh) writeFileSync(file, stringify([columns as string[]], OPTIONS));
  else checkColumns(file, columns);
  if (rows.length) appendFileSync(file, stringify(cells(columns, rows), OPTIONS));
}

/** Writes a whole CSV file. */
export function writeCsv(file: string, columns: readonly string[], rows: Row[]): void {
  writeFileSync(file, stringify([columns as string[], ...cells(columns, rows)], OPTIONS));
}

const checked = new Set<string>();

function checkColumns(file: string, columns: readonly string[]): void {
  if (checked.has(file)) return;
  const have = readCsv(file).columns;
  if (have.join(',') !== columns.join(','))
    throw new Error(`${file} has the columns ${have.join(',')}; this version writes ${columns.join(',')}: write to another --out`);
  checked.add(file);
}
