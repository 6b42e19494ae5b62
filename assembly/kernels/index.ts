// The kernels module (build/kernels.wasm): the dispatch entry and its constants.
export { prepareRecord, runFragment, kernelAbiHash, kernelScratchBase, KERNEL_ABI_VERSION } from './dispatch';
