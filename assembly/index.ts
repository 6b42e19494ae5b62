// agent.wasm: the device runtime and, through it, the kernels
// (docs/protocol.md section 6 lists this module's imports and exports).
export { init, rx_buffer, provision_key, tag_trap, feed, poll, set_mesh_port, high_water, arena_used, agent_overhead } from "./agent/agent";
