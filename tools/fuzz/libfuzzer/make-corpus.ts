// Writes the seed corpus of the libFuzzer harness (tools/fuzz/corpus/): valid
// request frames and whole sessions (LOAD then RUN of a real conv fragment),
// so mutations start deep in the agent's decoder instead of at its first byte.
// Run once after a protocol change: npx tsx tools/fuzz/libfuzzer/make-corpus.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFrame } from '../../../host/link/frame.ts';
import { encodeRequest, type Request } from '../../../host/link/messages.ts';
import { prepareOp } from '../../../host/model/op-params.ts';
import { wholeOutputBox } from '../../../host/model/oracle.ts';
import { loadVectorFile } from '../../../host/model/refcase.ts';
import { oneOpFragment } from '../../../test/fixtures/link-fragments.ts';

const DIR = 'tools/fuzz/corpus';
const CHUNK = 400; // data bytes per chunk: frames stay under the firmware's 1024-byte window

const frame = (m: Request) => encodeFrame(encodeRequest(m));
const cat = (parts: Uint8Array[]) => Buffer.concat(parts);

const [rc] = loadVectorFile('test/vectors/tflm/conv_2d.json');
const f = oneOpFragment(rc.graph, 0, rc.inputs[0], wholeOutputBox(prepareOp(rc.graph, 0)));
const chunksOf = (type: 'LOAD' | 'RUN', bytes: Uint8Array, first: object) =>
  Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) =>
    frame({ type, seq: 10 + i, frag: 1, offset: i * CHUNK, data: bytes.subarray(i * CHUNK, (i + 1) * CHUNK), ...(i === 0 ? first : {}) } as Request),
  );
const load = chunksOf('LOAD', f.blob, { total: f.blob.length, digest: f.digest, arena: f.arena });
const run = chunksOf('RUN', f.input, { total: f.input.length });

const seeds: Record<string, Uint8Array> = {
  hello: frame({ type: 'HELLO', seq: 1 }),
  ping: frame({ type: 'PING', seq: 2 }),
  profile: frame({ type: 'PROFILE', seq: 3, macs: 64 }),
  cancel: frame({ type: 'CANCEL', seq: 4, frag: 1 }),
  unload: frame({ type: 'UNLOAD', seq: 5, frag: 1 }),
  reset: frame({ type: 'RESET', seq: 6 }),
  'load-first-chunk': load[0],
  'load-run-session': cat([...load, ...run]),
  'load-run-cancel-unload': cat([...load, run[0], frame({ type: 'CANCEL', seq: 40, frag: 1 }), frame({ type: 'UNLOAD', seq: 41, frag: 1 })]),
};

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
for (const [name, bytes] of Object.entries(seeds)) writeFileSync(join(DIR, name), bytes);
console.log(`wrote ${Object.keys(seeds).length} seeds to ${DIR}`);
