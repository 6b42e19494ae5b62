// RESHAPE and DEQUANTIZE: a copy and the model's float output edge. The
// gateway does both on whole tensors; no device, no work counted.
import type { DequantizeGeometry, ReshapeGeometry } from '../../model/geometry.ts';
import { fullBox } from '../../model/oracle/tile.ts';
import type { OpDescriptor } from './descriptor.ts';

export const onGateway: OpDescriptor<ReshapeGeometry | DequantizeGeometry> = {
  runsOnDevice: () => false,
  spatial: false,
  splits: () => [],
  outputView: (o) => [...o.outputShape],
  inputView: (o) => ('inputShape' in o ? [...o.inputShape] : [...o.outputShape]),
  perOutput: () => 0,
  perOutputOfRecord: () => 0,
  inputTile: (o) => fullBox('inputShape' in o ? o.inputShape : o.outputShape),
  weightsPerChannel: () => 0,
};
