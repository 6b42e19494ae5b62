// The kernels module (build/kernels.wasm): the dispatch entry and its constants.
export { prepareRecord, runFragment, kernelAbiHash, kernelScratchBase } from './dispatch';
export { KERNEL_ABI_VERSION } from './layout';
