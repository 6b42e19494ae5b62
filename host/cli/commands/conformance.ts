// `microsplit conformance`: the same runner as `npm run conformance`.
import type { Command } from 'commander';
import { defineConformanceCommand } from '../conformance.ts';

export function register(program: Command): void {
  defineConformanceCommand(program.command('conformance'));
}
