// The JSON line of `npm run bench:firmware -- --json`, from what the run
// measured. Apart from the run so a test can check that its keys are the ones
// host/sim/instr-per-mac.json (the planner's table) is written from.

/** The measured cases, in order, by the short name their JSON keys use: conv 3x3, conv 1x1, depthwise 3x3, FC. */
export const CASES = ['conv', 'conv1x1', 'dw', 'fc'] as const;
/** Instructions per MAC of each case, in the order of CASES. */
export type PerCase = [conv: number, conv1x1: number, dw: number, fc: number];

export interface FirmwareMeasurements {
  scheme: string;
  /** Cortex-M4, per memory-check scheme (the boards' scheme among them). */
  byScheme: Record<string, PerCase>;
  plainC: PerCase;
  person: { agentInstructions: number; agentMacs: number; opsInstructions: number; opsMacs: number };
  /** Absent when wasm3's source was not found. */
  wasm3?: PerCase;
  /** Cortex-M3 (mps2-an385), the boards' scheme, and under wasm3. */
  m3: PerCase;
  m3Wasm3?: PerCase;
  /** The agent's ChaCha20 and HMAC-SHA256 on the M4: instructions per byte and per call. */
  crypto: { chacha20: { perByte: number; fixed: number }; hmac: { perByte: number; fixed: number } };
}

const r3 = (x: number) => +x.toFixed(3);

/** One key per case: `${prefix}${k}${suffix}` = f(case i). */
const perCase = (prefix: string, suffix: string, f: (i: number) => number) => Object.fromEntries(CASES.map((k, i) => [`${prefix}${k}${suffix}`, r3(f(i))]));

export function firmwareSummary(m: FirmwareMeasurements): Record<string, unknown> {
  const board = m.byScheme[m.scheme];
  return {
    scheme: m.scheme,
    ...perCase('instr_per_mac_', '', (i) => board[i]),
    ...perCase('', '_over_plain_c', (i) => board[i] / m.plainC[i]),
    plain_c_instr_per_mac: Object.fromEntries(CASES.map((k, i) => [k, r3(m.plainC[i])])),
    instr_per_mac_by_scheme: Object.fromEntries(Object.entries(m.byScheme).map(([s, v]) => [s, Object.fromEntries(CASES.map((k, i) => [k, r3(v[i])]))])),
    // Through the agent: one LOAD and one RUN of the model's kernel ops over the link.
    person_detect_instr_per_mac: r3(m.person.agentInstructions / m.person.agentMacs),
    person_detect_instructions: m.person.agentInstructions,
    person_detect_macs: m.person.agentMacs,
    // The same ops one by one through kernels.wasm (the per-op table).
    person_detect_ops_instr_per_mac: r3(m.person.opsInstructions / m.person.opsMacs),
    // Under wasm3 (absent when wasm3's source was not found); the ratio is over the boards' wasm2c build.
    ...(m.wasm3 && { ...perCase('wasm3_instr_per_mac_', '', (i) => m.wasm3![i]), ...perCase('wasm3_over_wasm2c_', '', (i) => m.wasm3![i] / board[i]) }),
    // The Cortex-M3 (no DSP instructions): the same cases on its own build.
    ...perCase('m3_instr_per_mac_', '', (i) => m.m3[i]),
    ...(m.m3Wasm3 && perCase('m3_wasm3_instr_per_mac_', '', (i) => m.m3Wasm3![i])),
    // Keyed links on the M4 (boards' scheme): sealing costs ChaCha20 per byte, every tag HMAC per byte.
    chacha20_instr_per_byte: r3(m.crypto.chacha20.perByte),
    chacha20_instr_per_call: Math.round(m.crypto.chacha20.fixed),
    hmac_instr_per_byte: r3(m.crypto.hmac.perByte),
    hmac_instr_per_call: Math.round(m.crypto.hmac.fixed),
  };
}
