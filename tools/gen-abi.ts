// `npm run gen:abi`: writes the device contract of spec/abi.json (wire
// protocol, kernel record and call block, fragment blob) as TypeScript for the
// gateway, AssemblyScript for the agent and kernels, and a C header for the
// firmware, with one ABI hash over the whole spec in all of them. The outputs
// are committed; test/abi-generated.test.ts fails when they differ from what
// this script writes. `--check` compares without writing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SPEC_PATH = 'spec/abi.json';

/** Where each output goes, relative to the repository root. */
export const OUTPUTS = {
  ts: 'host/abi/abi.generated.ts',
  asProtocol: 'assembly/agent/protocol.generated.ts',
  asKernel: 'assembly/kernels/layout.generated.ts',
  c: 'firmware/common/abi.generated.h',
} as const;

type Num = number | string;
interface Named {
  name: string;
  meaning: string;
}
interface Word extends Named {
  type: string;
  words?: number;
}
interface Field extends Named {
  key: number;
  type: FieldType;
  optional?: boolean;
}
interface Message extends Named {
  type: number;
  authenticated?: boolean;
  fields: Field[];
}
interface Coded extends Named {
  code: number;
}
interface Valued extends Named {
  value: Num;
  type?: string;
}

/** CBOR types a message field may have. */
export const FIELD_TYPES = ['uint', 'text', 'bytes', 'bytes32', 'uint[]', 'rates'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface Spec {
  meaning: string;
  frame: { meaning: string; constants: Valued[] };
  protocol: {
    version: number;
    meaning: string;
    common: Field[];
    auth: Field[];
    requests: Message[];
    replies: Message[];
    errors: Coded[];
    profileOps: Named[];
    engines: Coded[];
  };
  kernel: {
    version: number;
    magic: Num;
    meaning: string;
    recordWords: number;
    record: Word[];
    flags: Valued[];
    callWords: number;
    call: Word[];
    modes: Valued[];
    opcodes: Valued[];
    errors: Coded[];
  };
  forward: { meaning: string; record: Word[] };
  blob: { magic: Num; meaning: string; maxOps: number; align: number; header: Word[]; opEntry: Word[] };
}

export function readSpec(root = ROOT): Spec {
  return JSON.parse(readFileSync(join(root, SPEC_PATH), 'utf8')) as Spec;
}

/** A spec number: an integer, or a "0x..." string where hex reads better. */
const num = (v: Num): number => (typeof v === 'number' ? v : Number.parseInt(v, 16));
const hex = (v: number) => `0x${(v >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
/** A value as written in the spec: hex stays hex. */
const lit = (v: Num) => (typeof v === 'string' ? hex(num(v)) : String(v));

/** The spec without meanings and with numbers normalised: what the hash covers. */
function contract(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(contract);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'meaning')
        .map(([k, x]) => [k, typeof x === 'string' && /^0x[0-9a-f]+$/i.test(x) ? num(x) : contract(x)]),
    );
  return v;
}

/** FNV-1a (32 bits) over the UTF-8 JSON of the contract: names, order, types and values, not meanings. */
export function abiHash(spec: Spec): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(JSON.stringify(contract(spec)))) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Word (or byte, with `scale` 4) offsets of a block's fields, in spec order. */
function offsets(words: Word[], scale = 1): [string, number][] {
  let at = 0;
  return words.map((w) => {
    const o: [string, number] = [w.name, at * scale];
    at += w.words ?? 1;
    return o;
  });
}
const size = (words: Word[]) => words.reduce((n, w) => n + (w.words ?? 1), 0);

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every rule a spec must keep; one line per broken rule. */
export function checkSpec(spec: Spec): string[] {
  const bad: string[] = [];
  const unique = (what: string, xs: (string | number)[]) => {
    const seen = new Set<string | number>();
    for (const x of xs) {
      if (seen.has(x)) bad.push(`${what}: ${x} appears twice`);
      seen.add(x);
    }
  };
  const p = spec.protocol;
  for (const list of [p.requests, p.replies]) {
    unique('message names', list.map((m) => m.name));
    unique('message types', list.map((m) => m.type));
    for (const m of list) {
      const fields = [...p.common, ...m.fields, ...(m.authenticated ? p.auth : [])];
      unique(`${m.name} keys`, fields.map((f) => f.key));
      unique(`${m.name} field names`, fields.map((f) => f.name));
      for (const f of fields) {
        if (!FIELD_TYPES.includes(f.type)) bad.push(`${m.name}.${f.name}: type ${f.type} is not one of ${FIELD_TYPES.join(', ')}`);
        if (f.key < 0 || f.key > 23) bad.push(`${m.name}.${f.name}: key ${f.key} is not a one-byte CBOR key (0..23)`);
      }
    }
  }
  for (const r of p.requests) {
    const reply = p.replies.find((x) => x.name === r.name);
    if (reply && reply.type !== r.type) bad.push(`${r.name}: request type ${r.type} and reply type ${reply.type} differ`);
  }
  unique('protocol error codes', p.errors.map((e) => e.code));
  unique('engine codes', p.engines.map((e) => e.code));
  const k = spec.kernel;
  if (size(k.record) > k.recordWords) bad.push(`record: ${size(k.record)} words do not fit in recordWords ${k.recordWords}`);
  if (size(k.call) !== k.callWords) bad.push(`call block: ${size(k.call)} words, callWords says ${k.callWords}`);
  unique('opcodes', k.opcodes.map((o) => num(o.value)));
  k.errors.forEach((e, i) => e.code !== i && bad.push(`kernel error ${e.name}: code ${e.code}, but kernel codes count 0, 1, 2, ... in order`));
  return bad;
}

const BANNER = `Generated by tools/gen-abi.ts from ${SPEC_PATH}: do not edit; change the spec and run \`npm run gen:abi\` (docs/protocol.md).`;

function renderTs(spec: Spec, hash: number): string {
  const p = spec.protocol;
  const k = spec.kernel;
  const b = spec.blob;
  const obj = (pairs: [string, Num][], key = (s: string) => s) => `{\n${pairs.map(([n, v]) => `  ${key(n)}: ${lit(v)},`).join('\n')}\n}`;
  const fieldObj = (fs: Field[]) =>
    fs.length === 0 ? '{}' : `{\n${fs.map((f) => `      ${f.name}: { key: ${f.key}, type: '${f.type}', optional: ${!!f.optional} },`).join('\n')}\n    }`;
  const messages = (ms: Message[]) =>
    `{\n${ms
      .map((m) => `  ${m.name}: {\n    type: ${m.type},\n    authenticated: ${!!m.authenticated},\n    fields: ${fieldObj([...m.fields, ...(m.authenticated ? p.auth : [])])},\n  },`)
      .join('\n')}\n}`;
  return `// ${BANNER}
// The device contract for the gateway: frame constants, messages, error
// codes, the kernel record and call block, and the fragment blob.

/** FNV-1a over the whole spec (names, order, types, values); HELLO's \`abi\` must equal it. */
export const ABI_HASH = ${hex(hash)};

${spec.frame.constants.map((c) => `/** ${c.meaning}. */\nexport const ${c.name} = ${lit(c.value)};`).join('\n')}

export const PROTOCOL_VERSION = ${p.version};

/** Keys every message carries. */
export const COMMON_KEYS = ${obj(p.common.map((f) => [f.name, f.key]))} as const;

/** Requests the gateway sends; authenticated ones end with counter and tag (docs/protocol.md section 4). */
export const REQUESTS = ${messages(p.requests)} as const;

/** Replies a device sends. */
export const REPLIES = ${messages(p.replies)} as const;

/** Stable numeric error codes of ERROR; never renumbered. */
export const ERROR_CODES = ${obj(p.errors.map((e) => [e.name, e.code]))} as const;

/** Op types PROFILE measures, in this order. */
export const PROFILE_OPS = [${p.profileOps.map((o) => `'${o.name}'`).join(', ')}] as const;

/** Engine codes the host passes to the agent's init. */
export const ENGINES = ${obj(p.engines.map((e) => [e.name, e.code]))} as const;

export const KERNEL_ABI_VERSION = ${k.version};
export const ABI_MAGIC = ${lit(k.magic)};
export const RECORD_WORDS = ${k.recordWords};
export const RECORD_BYTES = ${k.recordWords * 4};
export const CALL_WORDS = ${k.callWords};
export const CALL_BYTES = ${k.callWords * 4};

/** Op record word indices. */
export const W = ${obj(offsets(k.record))} as const;

/** Record flag bits (W.FLAGS). */
export const FLAG = ${obj(k.flags.map((f) => [f.name, f.value]))} as const;

/** Call block word indices. */
export const C = ${obj(offsets(k.call))} as const;

/** Call modes (C.MODE). */
export const MODE = ${obj(k.modes.map((m) => [m.name, m.value]))} as const;

export const OPCODE = ${obj(k.opcodes.map((o) => [o.name, o.value]))} as const;

/** Kernel error codes, indexed by code. */
export const KERNEL_ERRORS = [${k.errors.map((e) => `'${e.name}'`).join(', ')}] as const;

export const BLOB_MAGIC = ${lit(b.magic)};
export const MAX_OPS = ${b.maxOps};
/** Alignment of every record and call block in the blob. */
export const BLOB_ALIGN = ${b.align};
/** Byte offsets in the blob header. */
export const BLOB_HEADER = ${obj(offsets(b.header, 4))} as const;
export const BLOB_HEADER_BYTES = ${size(b.header) * 4};
/** Byte offsets in an op-table entry. */
export const OP_ENTRY = ${obj(offsets(b.opEntry, 4))} as const;
export const OP_ENTRY_BYTES = ${size(b.opEntry) * 4};

/** Byte offsets in a record of a RUN's forwards field (for the device's host). */
export const FORWARD = ${obj(offsets(spec.forward.record, 4))} as const;
export const FORWARD_BYTES = ${size(spec.forward.record) * 4};
`;
}

/** Bytes of the `tag` field (a keyed device's HMAC-SHA256), 0 when the spec has none. */
function tagBytes(p: Spec['protocol']): number {
  return p.auth.find((f) => f.type === 'bytes32') ? 32 : 0;
}

function renderAsProtocol(spec: Spec, hash: number): string {
  const p = spec.protocol;
  const b = spec.blob;
  const types = new Map<string, number>();
  for (const m of [...p.requests, ...p.replies]) types.set(m.name, m.type);
  const c = (name: string, v: Num, type = 'u32') => `export const ${name}: ${type} = ${lit(v)};`;
  const chain = (fn: string, arg: string, pairs: [number, string][], fallback: string) =>
    `export function ${fn}(${arg}: u32): string {\n${pairs.map(([n, s]) => `  if (${arg} == ${n}) return "${s}";`).join('\n')}\n  return "${fallback}";\n}`;
  return `// ${BANNER}
// The wire protocol and fragment blob for the agent.

export const ABI_HASH: u32 = ${hex(hash)};

${spec.frame.constants.map((x) => c(x.name, x.value, x.type ?? 'u32')).join('\n')}

export const PROTOCOL_VERSION: u32 = ${p.version};

// Message types (key ${p.common[0].key}).
${[...types].map(([n, t]) => c(`T_${n}`, t)).join('\n')}

// Keys: every message, authentication, then request fields K_<TYPE>_<FIELD>.
${[...p.common, ...p.auth].map((f) => c(`K_${snake(f.name)}`, f.key)).join('\n')}
export const TAG_BYTES: u32 = ${tagBytes(p)};
${p.requests.flatMap((m) => m.fields.map((f) => c(`K_${m.name}_${snake(f.name)}`, f.key))).join('\n')}

// Reply fields R_<TYPE>_<FIELD>, and R_<TYPE>_FIELDS: how many required fields a reply carries.
${p.replies
  .flatMap((m) => [
    ...m.fields.map((f) => c(`R_${m.name}_${snake(f.name)}`, f.key)),
    c(`R_${m.name}_FIELDS`, m.fields.filter((f) => !f.optional).length),
  ])
  .join('\n')}

/** Requests a keyed device refuses without a counter and tag. */
export function isAuthenticated(type: u32): bool {
  return ${p.requests.filter((m) => m.authenticated).map((m) => `type == ${m.type}`).join(' || ') || 'false'};
}

// Error codes of ERROR (stable).
${p.errors.map((e) => c(`E_${e.name}`, e.code)).join('\n')}

export const PROFILE_OPS: u32 = ${p.profileOps.length};
/** PROFILE's name of op type \`i\`. */
${chain('profileOpName', 'i', p.profileOps.map((o, i) => [i, o.name]), '')}

/** Engine names by the code the host passes to init. */
${chain('engineName', 'code', p.engines.map((e) => [e.code, e.name]), 'unknown')}

// Fragment blob: header and op-table entry byte offsets.
${c('BLOB_MAGIC', b.magic)}
${c('MAX_OPS', b.maxOps)}
${c('BLOB_ALIGN', b.align)}
${offsets(b.header, 4).map(([n, o]) => c(`B_${n}`, o)).join('\n')}
${c('BLOB_HEADER_BYTES', size(b.header) * 4)}
${offsets(b.opEntry, 4).map(([n, o]) => c(`ENTRY_${n}`, o)).join('\n')}
${c('OP_ENTRY_BYTES', size(b.opEntry) * 4)}
`;
}

function renderAsKernel(spec: Spec, hash: number): string {
  const k = spec.kernel;
  const c = (name: string, v: Num, type = 'i32') => `export const ${name}: ${type} = ${lit(v)};`;
  return `// ${BANNER}
// The kernel op record and call block (assembly/kernels/ABI.md).

/** FNV-1a over the whole spec; kernelAbiHash() returns it and the agent reports it in HELLO. */
export const ABI_HASH: u32 = ${hex(hash)};
${c('KERNEL_ABI_VERSION', k.version)}
${c('ABI_MAGIC', k.magic)}
${c('RECORD_WORDS', k.recordWords)}
${c('RECORD_BYTES', k.recordWords * 4)}
${c('CALL_WORDS', k.callWords)}
${c('CALL_BYTES', k.callWords * 4)}

// Op record words.
${offsets(k.record).map(([n, o]) => c(`W_${n}`, o)).join('\n')}

${k.flags.map((f) => c(`FLAG_${f.name}`, f.value)).join('\n')}

// Call block words.
${offsets(k.call).map(([n, o]) => c(`C_${n}`, o)).join('\n')}

${k.modes.map((m) => c(`MODE_${m.name}`, m.value)).join('\n')}

// Opcodes.
${k.opcodes.map((o) => c(`OP_${o.name}`, o.value)).join('\n')}

// Kernel error codes (stable: the agent forwards them in ERROR's text).
${k.errors.map((e) => c(e.name, e.code)).join('\n')}
`;
}

function renderC(spec: Spec, hash: number): string {
  const p = spec.protocol;
  const k = spec.kernel;
  const b = spec.blob;
  const d = (name: string, v: Num) => `#define MS_${name} ${lit(v)}u`;
  const types = new Map<string, number>();
  for (const m of [...p.requests, ...p.replies]) types.set(m.name, m.type);
  return `/* ${BANNER} */
/* The device contract for the firmware: protocol, kernel record and call block, fragment blob. */
#ifndef MS_ABI_GENERATED_H
#define MS_ABI_GENERATED_H

${d('ABI_HASH', hex(hash))}

${spec.frame.constants.map((x) => d(x.name, x.value)).join('\n')}

${d('PROTOCOL_VERSION', p.version)}
${[...types].map(([n, t]) => d(`T_${n}`, t)).join('\n')}
${[...p.common, ...p.auth].map((f) => d(`K_${snake(f.name)}`, f.key)).join('\n')}
${d('TAG_BYTES', tagBytes(p))}
${p.requests.flatMap((m) => m.fields.map((f) => d(`K_${m.name}_${snake(f.name)}`, f.key))).join('\n')}
${p.replies.flatMap((m) => m.fields.map((f) => d(`R_${m.name}_${snake(f.name)}`, f.key))).join('\n')}
${p.errors.map((e) => d(`E_${e.name}`, e.code)).join('\n')}
${p.engines.map((e) => d(`ENGINE_${snake(e.name)}`, e.code)).join('\n')}

${d('KERNEL_ABI_VERSION', k.version)}
${d('ABI_MAGIC', k.magic)}
${d('RECORD_WORDS', k.recordWords)}
${d('CALL_WORDS', k.callWords)}
${offsets(k.record).map(([n, o]) => d(`W_${n}`, o)).join('\n')}
${k.flags.map((f) => d(`FLAG_${f.name}`, f.value)).join('\n')}
${offsets(k.call).map(([n, o]) => d(`C_${n}`, o)).join('\n')}
${k.modes.map((m) => d(`MODE_${m.name}`, m.value)).join('\n')}
${k.opcodes.map((o) => d(`OP_${o.name}`, o.value)).join('\n')}
${k.errors.map((e) => d(`KE_${e.name}`, e.code)).join('\n')}

${d('BLOB_MAGIC', b.magic)}
${d('MAX_OPS', b.maxOps)}
${d('BLOB_ALIGN', b.align)}
${offsets(b.header, 4).map(([n, o]) => d(`B_${n}`, o)).join('\n')}
${d('BLOB_HEADER_BYTES', size(b.header) * 4)}
${offsets(b.opEntry, 4).map(([n, o]) => d(`ENTRY_${n}`, o)).join('\n')}
${d('OP_ENTRY_BYTES', size(b.opEntry) * 4)}

/* A record of a RUN's forwards field, for a host that forwards: byte offsets. */
${offsets(spec.forward.record, 4).map(([n, o]) => d(`FWD_${n}`, o)).join('\n')}
${d('FORWARD_BYTES', size(spec.forward.record) * 4)}

#endif
`;
}

/** Every output file's text, by path. Throws one line per broken rule of the spec. */
export function render(spec: Spec): Record<string, string> {
  const bad = checkSpec(spec);
  if (bad.length) throw new Error(`${SPEC_PATH}:\n  ${bad.join('\n  ')}`);
  const hash = abiHash(spec);
  return {
    [OUTPUTS.ts]: renderTs(spec, hash),
    [OUTPUTS.asProtocol]: renderAsProtocol(spec, hash),
    [OUTPUTS.asKernel]: renderAsKernel(spec, hash),
    [OUTPUTS.c]: renderC(spec, hash),
  };
}

/** Paths whose committed text differs from what the spec generates. */
export function stale(root = ROOT): string[] {
  const out = render(readSpec(root));
  return Object.entries(out)
    .filter(([path, text]) => {
      try {
        return readFileSync(join(root, path), 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const s = stale();
    if (s.length) {
      console.error(`gen-abi: out of date with ${SPEC_PATH}: ${s.join(', ')}; run npm run gen:abi`);
      process.exit(1);
    }
    console.log(`gen-abi: generated files match ${SPEC_PATH}`);
  } else {
    const spec = readSpec();
    for (const [path, text] of Object.entries(render(spec))) writeFileSync(join(ROOT, path), text);
    console.log(`gen-abi: wrote ${Object.values(OUTPUTS).join(', ')} (ABI hash ${hex(abiHash(spec))})`);
  }
}
