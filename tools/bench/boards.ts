// `npm run bench:boards [-- --json] [-- --inferences N]`: bench:e2e's boards
// section alone, person_detect on testbeds/boards-timed.json (QEMU boards held
// to their stated clocks behind UARTs paced to their stated rates, beside a
// simulated device): the plan's prediction beside the median of N measured
// inferences after a warm-up, every output checked against the oracle.
import { loadModel } from '../../host/model/load.ts';
import { missingQemuToolchain } from '../../host/sim/qemu.ts';
import { boardsJson, boardsPrediction, printBoardsPrediction } from './boards-prediction.ts';

const MODEL = 'test/fixtures/person_detect/person_detect.tflite';
const IMAGES = ['test/fixtures/person_detect/person_input_int8.bin', 'test/fixtures/person_detect/no_person_input_int8.bin'];

const json = process.argv.includes('--json');
const inferencesArg = process.argv.indexOf('--inferences');
const n = inferencesArg >= 0 ? Number(process.argv[inferencesArg + 1]) : 5;
if (!Number.isInteger(n) || n < 1) throw new Error(`--inferences must be a positive integer, got ${process.argv[inferencesArg + 1]}`);
const missing = missingQemuToolchain();
if (missing) throw new Error(`bench:boards needs the board toolchain: ${missing}`);

const t0 = performance.now();
const r = await boardsPrediction(await loadModel(MODEL), IMAGES, n);
printBoardsPrediction(r);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (json) console.log(JSON.stringify({ inferences: n, ...boardsJson(r), boards_latencies_ms: r.latenciesMs.map(Math.round), boards_link_bytes_per_s: r.linkBytesPerSec }));
