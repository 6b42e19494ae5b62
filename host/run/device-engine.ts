// An Engine that runs a graph's kernel ops on a connected device (a board
// over serial, a QEMU board's PTY, a simulated device over TCP): each op is
// LOADed as a one-op fragment holding the whole op, RUN on its whole inputs,
// and UNLOADed. Ops that run on the gateway (RESHAPE, float QUANTIZE and
// DEQUANTIZE) run in the oracle. For `microsplit conformance --device PORT`.
import type { DeviceClient } from '../link/client.ts';
import { buildFragment, wholeOpFragment } from './fragment-build.ts';
import type { Engine } from '../model/engine.ts';
import { DTYPE_BYTES, numElements, type DType, type Graph, type TensorData } from '../model/ir.ts';
import { validateGraph } from '../model/validate.ts';
import { isKernelOp } from '../abi/kernel-abi.ts';
import { prepareOp } from '../model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../model/oracle.ts';

const ARRAY_OF: Record<DType, new (buffer: ArrayBuffer) => TensorData> = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
};

/** The fragment id the engine loads each op under (freed after the op). */
const FRAGMENT_ID = 0x7e57;

const bytesOf = (d: TensorData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** An Engine over one connected device; the caller owns (and closes) the client. */
export function deviceEngine(client: DeviceClient, name = 'device'): Engine {
  return {
    name,
    async runAll(graph: Graph, inputs: TensorData[]): Promise<(TensorData | undefined)[]> {
      validateGraph(graph);
      if (inputs.length !== graph.inputs.length) throw new RangeError(`${name}: ${inputs.length} inputs given, graph has ${graph.inputs.length}`);
      const values: (TensorData | undefined)[] = new Array(graph.tensors.length);
      graph.inputs.forEach((id, k) => (values[id] = inputs[k]));
      for (let i = 0; i < graph.ops.length; i++) {
        const op = graph.ops[i];
        const params = prepareOp(graph, i);
        const data = params.inputs.map((id) => {
          const v = values[id];
          if (!v) throw new Error(`${name}: op ${i} (${op.kind}) needs tensor ${id}, which was not computed`);
          return v;
        });
        const out = op.outputs[0];
        const outType = graph.tensors[out].dtype;
        if (!isKernelOp(params)) {
          const tiles = params.inputs.map((id, k) => ({ data: data[k], origin: graph.tensors[id].shape.map(() => 0), shape: graph.tensors[id].shape }));
          values[out] = runOpBox(params, tiles, wholeOutputBox(params));
          continue;
        }
        const f = buildFragment(graph, wholeOpFragment(graph, i, name));
        await client.load(FRAGMENT_ID, f.blob, { arena: f.arena, digest: f.digest });
        const input = Buffer.concat(data.map(bytesOf));
        const r = await client.run(FRAGMENT_ID, input, { timeoutMs: 120_000 });
        await client.unload(FRAGMENT_ID);
        const expected = numElements(graph.tensors[out].shape) * DTYPE_BYTES[outType];
        if (r.output.length !== expected) throw new Error(`${name}: op ${i} (${op.kind}) returned ${r.output.length} bytes, expected ${expected}`);
        values[out] = new ARRAY_OF[outType](r.output.slice().buffer);
      }
      return values;
    },
  };
}

/** Connects to the device at a link address (/dev/ttyUSB0, /dev/pts/N, tcp://host:port), refusing another kernel ABI. */
export async function connectDevice(uri: string): Promise<DeviceClient> {
  const { openTransport } = await import('../link/open.ts');
  const { DeviceClient } = await import('../link/client.ts');
  const { KERNEL_ABI_HASH } = await import('../abi/kernel-abi.ts');
  return DeviceClient.connect(await openTransport(uri), { name: uri, expectAbi: KERNEL_ABI_HASH });
}
