// `microsplit deploy`: loads a plan's fragments onto running devices (real
// boards, `microsplit sim`, QEMU) and leaves them there, so that later
// `microsplit run --plan` calls start computing at once. Checks every device
// against the plan first; a failure part-way resets the devices it touched.
import { Command } from 'commander';
import { strategies } from '../../plan/strategies/index.ts';
import { openGateway, type GatewayFlags } from '../gateway.ts';
import { addPlanChoiceOptions } from '../plan-options.ts';
import { kib, printTable } from '../table.ts';
import { addTargetOptions } from '../targets.ts';

export function register(program: Command): void {
  const cmd = program
    .command('deploy')
    .description("load a plan's fragments onto running devices (checked against the plan; rolled back on failure)")
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .option('--plan <file>', 'the plan to deploy (default: plan now from --devices profiles)')
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print one JSON object as the last line');
  addTargetOptions(cmd);
  addPlanChoiceOptions(cmd, Object.keys(strategies));
  cmd.action(async (opts: GatewayFlags) => {
    if (opts.testbed) throw new Error('deploy leaves fragments on running devices; a --testbed would stop with the command (use `microsplit sim` and --ports, or `microsplit run --testbed`)');
    const gw = await openGateway(opts, (l) => console.error(l));
    try {
      const rows = gw.plan.memory.map((m) => {
        const frags = gw.deployment.fragments.filter((f) => f.plan.devices.includes(m.device));
        return [m.device, String(frags.length), String(frags.reduce((a, f) => a + f.built.blob.length, 0)), kib(m.peak), kib(m.budget)];
      });
      console.log(gw.loaded ? 'deployed:' : 'the devices already hold this plan:');
      printTable(['device', 'fragments', 'bytes loaded', 'plan peak', 'budget'], rows);
      if (opts.json)
        console.log(JSON.stringify({ loaded: gw.loaded, devices: rows.map(([device, fragments, bytes]) => ({ device, fragments: Number(fragments), bytes: Number(bytes) })) }));
    } finally {
      await gw.close();
    }
  });
}
