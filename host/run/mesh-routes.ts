// The executor's side of the plan's routes (DISNET's mesh, docs/protocol.md
// section 3): which output ranges a producer's RUN forwards straight to the
// devices of its consumers, and which ranges of a consumer's input other
// devices forwarded (the gateway sends the rest). A keyed consumer's route
// key for the run goes to the producer's host sealed under the producer's key. A range counts as
// forwarded only when its producer ran on its planned device, returned its
// RESULT, and both devices' hosts forward; otherwise the gateway sends it,
// from the copy of every box it keeps. Run ids are drawn per consumer and
// inference, from a random start, so no run of an earlier session is
// continued by mistake.
import { randomInt } from 'node:crypto';
import type { DeviceClient, RunOptions } from '../link/client.ts';
import { packForwards, type Forward } from '../link/forwards.ts';
import type { DeployedFragment, Deployment } from './deploy.ts';

interface Range {
  to: DeployedFragment;
  outOffset: number;
  bytes: number;
  inOffset: number;
}

/** What a producer's RUN forwards: the packed field and the ranges it names. */
export interface Forwarding {
  packed: Uint8Array;
  ranges: Range[];
}

/** The IPv4 address of a TCP device (tcp://a.b.c.d:port), where its mesh port listens too. */
function tcpHost(client: DeviceClient): string | undefined {
  return /^tcp:\/\/(\d+\.\d+\.\d+\.\d+):\d+$/.exec(client.address)?.[1];
}

/** A device whose host forwards: it says so in HELLO and is reached over TCP. */
function forwards(client: DeviceClient | undefined): client is DeviceClient {
  return client !== undefined && client.isOpen && client.info.mesh > 0 && tcpHost(client) !== undefined;
}

/**
 * Whether `from`'s host may forward to `to`: both unkeyed, or both keyed (a
 * keyed consumer's route key reaches the producer's host sealed under the
 * producer's key; an unkeyed producer would get it in the clear).
 */
const compatible = (from: DeviceClient, to: DeviceClient) => (from.info.keyed === 1) === (to.info.keyed === 1);

/** Data bytes of a forwarded frame that fit a receive window with the RUN's fields and tag. */
const chunkFor = (window: number) => Math.max(16, Math.floor(window * 0.9) - 160);

export class MeshRoutes {
  private readonly routes = new Map<number, Range[]>();
  private nextRun = randomInt(1, 2 ** 30);
  /** Per inference (its tensor table), each consumer's run id and the input ranges forwarded to it. */
  private readonly flows = new WeakMap<object, Map<number, { run: number; forwarded: { offset: number; bytes: number }[] }>>();

  constructor(private readonly dep: Deployment) {
    const byId = new Map(dep.fragments.map((f) => [f.plan.id, f]));
    for (const f of dep.fragments)
      if (f.plan.forwards.length > 0)
        this.routes.set(
          f.num,
          f.plan.forwards.map((r) => ({ to: byId.get(r.to)!, outOffset: r.outOffset, bytes: r.bytes, inOffset: r.inOffset })),
        );
  }

  private flow(inference: object, to: DeployedFragment) {
    let m = this.flows.get(inference);
    if (!m) this.flows.set(inference, (m = new Map()));
    let f = m.get(to.num);
    if (!f) {
      f = { run: this.nextRun, forwarded: [] };
      this.nextRun = (this.nextRun % 0x7fffffff) + 1;
      m.set(to.num, f);
    }
    return f;
  }

  /** What a RUN of `f` on device `id` forwards in `inference`; only on its planned device, to consumers' planned devices that `usable` accepts. */
  forwardsOf(f: DeployedFragment, id: string, inference: object, usable: (id: string) => boolean): Forwarding | undefined {
    const list = this.routes.get(f.num);
    const from = this.dep.clients.get(id);
    if (!list || id !== f.plan.devices[0] || !forwards(from)) return undefined;
    const ranges = list.filter((r) => {
      const c = r.to.plan.devices[0];
      const to = this.dep.clients.get(c);
      return usable(c) && forwards(to) && compatible(from, to);
    });
    if (ranges.length === 0) return undefined;
    const records = ranges.map((r): Forward => {
      const to = this.dep.clients.get(r.to.plan.devices[0])!;
      const run = this.flow(inference, r.to).run;
      const key = to.routeKey(run);
      return {
        frag: r.to.num,
        outOffset: r.outOffset,
        bytes: r.bytes,
        inOffset: r.inOffset,
        total: r.to.built.inputs.reduce((a, i) => a + i.bytes, 0),
        run,
        host: tcpHost(to)!,
        port: to.info.mesh,
        chunk: chunkFor(to.info.window),
        key: key ? from.sealForHost(run, key)! : new Uint8Array(32),
      };
    });
    return { packed: packForwards(records), ranges };
  }

  /** The RUN of a producer returned its RESULT: its forwarded ranges are on their way. */
  sent(inference: object, fw: Forwarding): void {
    for (const r of fw.ranges) this.flow(inference, r.to).forwarded.push({ offset: r.inOffset, bytes: r.bytes });
  }

  /** A RUN of `f` on device `id` as a run several senders fill, when ranges of its input were forwarded to that device. */
  meshOf(f: DeployedFragment, id: string, inference: object, waitMs: number): RunOptions['mesh'] {
    const flow = this.flows.get(inference)?.get(f.num);
    if (!flow || flow.forwarded.length === 0 || id !== f.plan.devices[0] || !forwards(this.dep.clients.get(id))) return undefined;
    return { run: flow.run, forwarded: flow.forwarded, waitMs };
  }
}
