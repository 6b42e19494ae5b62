// The agent reaches the kernels only through their dispatch entry
// (assembly/kernels/ABI.md): prepare a record at LOAD, run a call at RUN.
export { prepareRecord, runFragment, kernelAbiHash } from "../kernels/dispatch";
