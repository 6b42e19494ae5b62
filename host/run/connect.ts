// Opening every device of a deployment: transport by address, then the HELLO
// handshake (retried until the device answers).
import { DeviceClient, type ClientOptions } from '../link/client.ts';
import { openTransport } from '../link/open.ts';

/** Connects to every device (with its link's rate, bytes/s, when known: it sizes transfer budgets; with its key when keyed); on any failure closes those already open. */
export async function connectAll(
  devices: { id: string; uri: string; linkBytesPerSec?: number; key?: Uint8Array }[],
  opts: ClientOptions = {},
): Promise<Map<string, DeviceClient>> {
  const results = await Promise.allSettled(
    devices.map(async (d) =>
      DeviceClient.connect(await openTransport(d.uri), {
        ...opts,
        name: d.id,
        ...(d.linkBytesPerSec ? { linkBytesPerSec: d.linkBytesPerSec } : {}),
        ...(d.key ? { key: d.key } : {}),
      }),
    ),
  );
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    await Promise.allSettled(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
    throw new Error(`cannot connect to ${devices[failed].id} at ${devices[failed].uri}: ${((results[failed] as PromiseRejectedResult).reason as Error).message}`);
  }
  // In the order given, whichever answered first: reports list devices as their testbed or ports file does.
  return new Map(devices.map((d, i) => [d.id, (results[i] as PromiseFulfilledResult<DeviceClient>).value]));
}

