// `npm run fuzz [-- --count N --seed S]`: the agent's frame fuzz in Node,
// unkeyed, keyed, and keyed with sealed data, N inputs each (default 100000). Exit status 1 on the
// first failure, which names the seed and the input.
import { Command } from 'commander';
import { fuzzAgentFrames } from './agent-frames.ts';

const opts = new Command('fuzz')
  .description('feed random and mutated frames to agent.wasm in Node')
  .option('--count <n>', 'inputs per mode', (v) => Number.parseInt(v, 10), 100_000)
  .option('--seed <n>', 'PRNG seed', (v) => Number.parseInt(v, 10), Date.now() % 0x7fffffff)
  .parse()
  .opts<{ count: number; seed: number }>();

if (!Number.isInteger(opts.count) || opts.count < 1) {
  console.error(`fuzz: --count must be a positive integer, got ${opts.count}`);
  process.exit(2);
}
try {
  for (const [keyed, sealed] of [[false, false], [true, false], [true, true]]) {
    const r = fuzzAgentFrames({ count: opts.count, seed: opts.seed, keyed, sealed });
    console.log(
      `agent frames${sealed ? ' (keyed, sealed)' : keyed ? ' (keyed)' : ''}: ${r.inputs} inputs, ${r.bytesFed} bytes, seed ${opts.seed}, ${(r.ms / 1000).toFixed(1)} s; ` +
        `replies ${JSON.stringify(r.replies)}, error codes ${JSON.stringify(r.errorCodes)}; high water ${r.maxHighWater} of ${r.budget}`,
    );
  }
} catch (e) {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exit(1);
}
