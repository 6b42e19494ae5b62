// Entry point of a simulated device's child process (started by launcher.ts):
// argv[2] is the DeviceProcessConfig as JSON.
import { runDeviceProcess, type DeviceProcessConfig } from './device-process.ts';

await runDeviceProcess(JSON.parse(process.argv[2]) as DeviceProcessConfig);
