// `microsplit profile`: asks each device for its on-device micro-benchmark
// (PROFILE: MAC/s per op type), measures its link (PING round trip for the
// latency; a throwaway LOAD, refused at the end by its wrong digest, for the
// byte rate) and writes a device profile file the planner takes. A device
// simulated in Node computes at Node's speed and is slowed to the testbed's:
// for it the file takes the MAC/s it simulates, and the output says so (and
// when Node measured slower than that, which makes the device slower too).
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { linkRate } from '../../run/measure-links.ts';
import { DeviceProfileSchema, parseBytes, type DeviceProfile } from '../../plan/profiles.ts';
import { kib, printTable } from '../table.ts';
import { addTargetOptions, openTargets, type TargetFlags } from '../targets.ts';

interface ProfileOptions extends TargetFlags {
  out: string;
  probeBytes: string;
  macs: number;
  json?: boolean;
}

/** PROFILE's op names -> the planner's op kinds. */
const KINDS: Record<string, string[]> = {
  conv: ['CONV_2D'],
  depthwise: ['DEPTHWISE_CONV_2D'],
  fc: ['FULLY_CONNECTED'],
  pool: ['MAX_POOL_2D', 'AVERAGE_POOL_2D'],
  add: ['ADD'],
  softmax: ['SOFTMAX'],
};

export function register(program: Command): void {
  const cmd = program
    .command('profile')
    .description('benchmark each device (PROFILE) and its link, and write a device profile file for `microsplit plan`')
    .option('--out <file>', 'where to write the profiles', 'devices.json')
    .option('--probe-bytes <n>', 'bytes sent to time each link', '16K')
    .option('--macs <n>', 'MACs per op type in the on-device benchmark', (v) => Number(v), 1_000_000)
    .option('--json', 'print the profiles as one JSON object line');
  addTargetOptions(cmd);
  cmd.action(async (opts: ProfileOptions) => {
    const targets = await openTargets(opts, (l) => console.error(l));
    try {
      const profiles: DeviceProfile[] = [];
      const source: Record<string, 'simulated' | 'measured'> = {};
      const slower: string[] = [];
      for (const [id, client] of targets.clients) {
        const rates = await client.profile(opts.macs);
        let rtt = Infinity;
        for (let i = 0; i < 3; i++) rtt = Math.min(rtt, (await client.ping()).rttMs);
        const bytesPerSec = await linkRate(client, parseBytes(opts.probeBytes));
        const measured: Record<string, number> = { default: Math.max(1, rates.conv ?? 1) };
        for (const [name, kinds] of Object.entries(KINDS)) {
          const r = (rates as Record<string, number | undefined>)[name];
          if (r) for (const k of kinds) measured[k] = r;
        }
        const simulated = targets.simulatedSpeeds.get(id);
        source[id] = simulated ? 'simulated' : 'measured';
        if (simulated) {
          // Where Node is slower than the stated speed, the simulator cannot make it faster.
          const ratios = Object.values(KINDS)
            .flat()
            .filter((k) => measured[k] !== undefined)
            .map((k) => ({ k, x: (simulated[k] ?? simulated.default) / measured[k] }))
            .filter((r) => r.x > 1);
          const worst = ratios.sort((a, b) => b.x - a.x)[0];
          if (worst) slower.push(`${id} (${ratios.length} op kinds, up to ${worst.x.toFixed(1)}x on ${worst.k})`);
        }
        const macPerSec = simulated ?? measured;
        profiles.push(
          DeviceProfileSchema.parse({
            id,
            // The agent's memory: its own overhead (reserved) and the arena HELLO reports.
            budget: client.info.budget + client.info.overhead,
            reservedBytes: client.info.overhead,
            macPerSec,
            link: { bytesPerSec, latencyS: rtt / 2000 },
            // Energy cannot be measured over the link: fill in the board's datasheet figures.
            energy: { joulesPerMac: 0, joulesPerByteSent: 0, joulesPerByteReceived: 0, idleWatts: 0 },
          }),
        );
      }
      writeFileSync(opts.out, JSON.stringify({ devices: profiles }, null, 1) + '\n');
      printTable(
        ['device', 'MAC/s', 'budget', 'conv MAC/s', 'depthwise MAC/s', 'fc MAC/s', 'link B/s', 'latency ms'],
        profiles.map((p) => [
          p.id,
          source[p.id],
          kib(p.budget),
          (p.macPerSec.CONV_2D ?? p.macPerSec.default).toExponential(2),
          (p.macPerSec.DEPTHWISE_CONV_2D ?? p.macPerSec.default).toExponential(2),
          (p.macPerSec.FULLY_CONNECTED ?? p.macPerSec.default).toExponential(2),
          p.link.bytesPerSec.toFixed(0),
          (p.link.latencyS * 1000).toFixed(2),
        ]),
      );
      if (Object.values(source).includes('simulated')) {
        console.log("MAC/s: 'simulated' devices report the speeds their simulator enforces, not Node's own; 'measured' ones what PROFILE measured on the device. Links are measured on all.");
        if (slower.length) console.log(`Node computes slower than simulated here, so these devices run slower than their profile says: ${slower.join(', ')}`);
      }
      console.log(`profiles written to ${opts.out} (energy figures are 0: edit them from the boards' datasheets)`);
      if (opts.json) console.log(JSON.stringify({ devices: profiles, mac_per_sec: source }));
    } finally {
      await targets.close();
    }
  });
}
