// The JSON line of `npm run bench:firmware -- --json`, from what the run
// measured. Apart from the run so a test can check that its keys are the ones
// host/sim/instr-per-mac.json (the planner's table) is written from.

/** Instructions per MAC of the three measured cases, in order: conv 3x3, depthwise 3x3, FC. */
export type PerCase = [conv: number, dw: number, fc: number];

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

export function firmwareSummary(m: FirmwareMeasurements): Record<string, unknown> {
  const [conv, dw, fc] = m.byScheme[m.scheme];
  const cases = ['conv', 'dw', 'fc'];
  return {
    scheme: m.scheme,
    instr_per_mac_conv: r3(conv),
    instr_per_mac_dw: r3(dw),
    instr_per_mac_fc: r3(fc),
    conv_over_plain_c: r3(conv / m.plainC[0]),
    dw_over_plain_c: r3(dw / m.plainC[1]),
    fc_over_plain_c: r3(fc / m.plainC[2]),
    plain_c_instr_per_mac: Object.fromEntries(cases.map((k, i) => [k, r3(m.plainC[i])])),
    instr_per_mac_by_scheme: Object.fromEntries(Object.entries(m.byScheme).map(([s, v]) => [s, Object.fromEntries(cases.map((k, i) => [k, r3(v[i])]))])),
    // Through the agent: one LOAD and one RUN of the model's kernel ops over the link.
    person_detect_instr_per_mac: r3(m.person.agentInstructions / m.person.agentMacs),
    person_detect_instructions: m.person.agentInstructions,
    person_detect_macs: m.person.agentMacs,
    // The same ops one by one through kernels.wasm (the per-op table).
    person_detect_ops_instr_per_mac: r3(m.person.opsInstructions / m.person.opsMacs),
    // Under wasm3 (absent when wasm3's source was not found); the ratio is over the boards' wasm2c build.
    ...(m.wasm3 && {
      wasm3_instr_per_mac_conv: r3(m.wasm3[0]),
      wasm3_instr_per_mac_dw: r3(m.wasm3[1]),
      wasm3_instr_per_mac_fc: r3(m.wasm3[2]),
      wasm3_over_wasm2c_conv: r3(m.wasm3[0] / conv),
      wasm3_over_wasm2c_dw: r3(m.wasm3[1] / dw),
      wasm3_over_wasm2c_fc: r3(m.wasm3[2] / fc),
    }),
    // The Cortex-M3 (no DSP instructions): the same cases on its own build.
    m3_instr_per_mac_conv: r3(m.m3[0]),
    m3_instr_per_mac_dw: r3(m.m3[1]),
    m3_instr_per_mac_fc: r3(m.m3[2]),
    ...(m.m3Wasm3 && {
      m3_wasm3_instr_per_mac_conv: r3(m.m3Wasm3[0]),
      m3_wasm3_instr_per_mac_dw: r3(m.m3Wasm3[1]),
      m3_wasm3_instr_per_mac_fc: r3(m.m3Wasm3[2]),
    }),
    // Keyed links on the M4 (boards' scheme): sealing costs ChaCha20 per byte, every tag HMAC per byte.
    chacha20_instr_per_byte: r3(m.crypto.chacha20.perByte),
    chacha20_instr_per_call: Math.round(m.crypto.chacha20.fixed),
    hmac_instr_per_byte: r3(m.crypto.hmac.perByte),
    hmac_instr_per_call: Math.round(m.crypto.hmac.fixed),
  };
}
