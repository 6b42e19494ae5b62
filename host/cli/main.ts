// The `microsplit` command. Each subcommand lives in host/cli/commands/<name>.ts
// and exports `register(program)`; they are registered in alphabetical order.
import { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function buildProgram(): Promise<Command> {
  const program = new Command('microsplit')
    .description('Run one int8 neural network split across several microcontrollers')
    .version('0.1.0')
    .configureOutput({ outputError: (s, write) => write(s) })
    // A command's options are its own: `experiment merge --out` is merge's, not experiment's.
    .enablePositionalOptions();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { register: (p: Command) => void };
    mod.register(program);
  }
  return program;
}

const program = await buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`microsplit: ${(e as Error).message}`);
  process.exitCode = 1;
}
