// `microsplit report DIR`: (re)writes DIR/report.html from an experiment's
// CSVs: charts rendered to SVG and inlined, no network needed to open it.
import type { Command } from 'commander';
import { writeReport } from '../../lab/report.ts';

export function register(program: Command): void {
  program
    .command('report')
    .description("write an experiment's HTML report (charts inlined as SVG) from its results folder")
    .argument('<dir>', 'results folder of `microsplit experiment`')
    .action(async (dir: string) => {
      console.log(await writeReport(dir));
    });
}
