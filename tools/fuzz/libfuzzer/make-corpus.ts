// Writes the seed corpus of the libFuzzer harness (tools/fuzz/corpus/): valid
// request frames and whole sessions (LOAD then RUN of a real conv fragment),
// so mutations start deep in the agent's decoder instead of at its first byte;
// the same session signed, and signed and sealed, for the harness's keyed
// agent (inputs starting with 'K': FUZZ_KEY and FUZZ_SESSION of agent_fuzz.c).
// Run once after a protocol change: npx tsx tools/fuzz/libfuzzer/make-corpus.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFrame } from '../../../host/link/frame.ts';
import { RequestSigner } from '../../../host/link/hmac.ts';
import { encodeRequest, type Request } from '../../../host/link/messages.ts';
import { prepareOp } from '../../../host/model/op-params.ts';
import { wholeOutputBox } from '../../../host/model/oracle.ts';
import { loadVectorFile } from '../../../host/model/refcase.ts';
import { oneOpFragment } from '../../../test/fixtures/link-fragments.ts';

const DIR = 'tools/fuzz/corpus';
const CHUNK = 400; // data bytes per chunk: frames stay under the firmware's 1024-byte window

/** agent_fuzz.c's keyed agent: its mark, key and session. */
const KEYED_MARK = Uint8Array.of(0x4b);
const FUZZ_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const FUZZ_SESSION = 0x00010001;

const plain = (m: Request) => encodeFrame(encodeRequest(m));
const cat = (parts: Uint8Array[]) => Buffer.concat(parts);

const [rc] = loadVectorFile('test/vectors/tflm/conv_2d.json');
const f = oneOpFragment(rc.graph, 0, rc.inputs[0], wholeOutputBox(prepareOp(rc.graph, 0)));
const chunksOf = (frame: (m: Request) => Uint8Array, type: 'LOAD' | 'RUN', bytes: Uint8Array, first: object) =>
  Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) =>
    frame({ type, seq: 10 + i, frag: 1, offset: i * CHUNK, data: bytes.subarray(i * CHUNK, (i + 1) * CHUNK), ...(i === 0 ? first : {}) } as Request),
  );
const loadOf = (frame: (m: Request) => Uint8Array) => chunksOf(frame, 'LOAD', f.blob, { total: f.blob.length, digest: f.digest, arena: f.arena });
const runOf = (frame: (m: Request) => Uint8Array) => chunksOf(frame, 'RUN', f.input, { total: f.input.length });
const load = loadOf(plain);
const run = runOf(plain);
/** The keyed harness's mark, then LOAD and RUN signed (and sealed) in counter order. */
const signed = (sealed: boolean) => {
  const signer = new RequestSigner(FUZZ_KEY, FUZZ_SESSION, 0, sealed);
  const frame = (m: Request) => encodeFrame(signer.encode(m));
  return cat([KEYED_MARK, ...loadOf(frame), ...runOf(frame)]);
};

const seeds: Record<string, Uint8Array> = {
  hello: plain({ type: 'HELLO', seq: 1 }),
  ping: plain({ type: 'PING', seq: 2 }),
  profile: plain({ type: 'PROFILE', seq: 3, macs: 64 }),
  cancel: plain({ type: 'CANCEL', seq: 4, frag: 1 }),
  unload: plain({ type: 'UNLOAD', seq: 5, frag: 1 }),
  reset: plain({ type: 'RESET', seq: 6 }),
  'load-first-chunk': load[0],
  'load-run-session': cat([...load, ...run]),
  'load-run-cancel-unload': cat([...load, run[0], plain({ type: 'CANCEL', seq: 40, frag: 1 }), plain({ type: 'UNLOAD', seq: 41, frag: 1 })]),
  'keyed-load-run-session': signed(false),
  'keyed-sealed-load-run-session': signed(true),
};

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
for (const [name, bytes] of Object.entries(seeds)) writeFileSync(join(DIR, name), bytes);
console.log(`wrote ${Object.keys(seeds).length} seeds to ${DIR}`);
