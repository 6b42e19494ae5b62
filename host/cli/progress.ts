// Deploy progress: one bar per device (bytes loaded of its fragments, ETA),
// on stderr so stdout stays machine-readable. cli-progress draws bars on a
// terminal and prints plain lines when stderr is not one.
import cliProgress from 'cli-progress';
import type { DeployProgress } from '../run/deploy.ts';

export interface ProgressSink {
  onProgress: (p: DeployProgress) => void;
  stop(): void;
}

export function deployBars(enabled = true): ProgressSink {
  if (!enabled) return { onProgress: () => undefined, stop: () => undefined };
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {device} |{bar}| {percentage}% {value}/{total} B  ETA {eta}s  {fragment}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 1000,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress(p) {
      let bar = bars.get(p.device);
      if (!bar) {
        bar = multi.create(p.deviceTotal, 0, { device: p.device.padEnd(12), fragment: '' });
        bars.set(p.device, bar);
      }
      bar.update(p.deviceSent, { fragment: p.fragment });
    },
    stop() {
      multi.stop();
    },
  };
}
