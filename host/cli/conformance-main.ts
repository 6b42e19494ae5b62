// `npm run conformance -- DIR... [--engine wasm|oracle] [--json]`
import { Command } from 'commander';
import { defineConformanceCommand } from './conformance.ts';

const cmd = defineConformanceCommand(new Command('conformance'));
try {
  await cmd.parseAsync(process.argv);
} catch (e) {
  console.error(`conformance: ${(e as Error).message}`);
  process.exitCode = 2;
}
