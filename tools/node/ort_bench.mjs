// ort_bench.mjs times ONNX Runtime (onnxruntime-node, CPU) on the models of
// `aekit bench`, exported by `go run ./bench/export -o DIR`, and prints one
// line per case in aekit bench's format, for bench/compare.sh:
//
//   bench infer model=<name> threads=<n> batch=<b> samples_per_s=<x> latency_us=<x>
//
//   node ort_bench.mjs --dir DIR [--models seed,ae784,deep] [--threads 1]
//                      [--reps 5] [--rep-time 0.4] [--rows 60000]
//
// Each case runs a warm-up (a quarter of --rep-time), then --reps timed
// repetitions of about --rep-time seconds each; the median is printed. The
// session uses intraOpNumThreads = threads, one inter-op thread,
// sequential execution and all graph optimisations. Inputs are uniform
// random in [0, 1): --rows rows, and successive calls take successive
// batches of them, cycling, as aekit bench and torch_bench.py do (the same
// input every call would sit in cache: 0.8 MB for 256 rows of 784, while
// 60000 rows are 188 MB read from memory). The tensors are views made
// before timing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

function parseArgs(argv) {
  const o = { dir: '.', models: 'seed,ae784,deep', threads: '1', reps: 5, repTime: 0.4, rows: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--dir': o.dir = v; i++; break;
      case '--models': o.models = v; i++; break;
      case '--threads': o.threads = v; i++; break;
      case '--reps': o.reps = Number(v); i++; break;
      case '--rep-time': o.repTime = Number(v); i++; break;
      case '--rows': o.rows = Number(v); i++; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!(o.reps >= 1) || !(o.repTime > 0) || !(o.rows >= 256)) throw new Error('--reps and --rep-time must be positive, --rows at least 256');
  return o;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;

// inputs returns rows×width uniform random values, one per model width,
// made once.
const inputCache = new Map();
function inputs(width, rows) {
  if (!inputCache.has(width)) {
    const data = new Float32Array(rows * width);
    for (let i = 0; i < data.length; i++) data[i] = Math.random();
    inputCache.set(width, data);
  }
  return inputCache.get(width);
}

async function benchCase(session, width, batch, reps, repTime, rows) {
  const data = inputs(width, rows);
  const chunks = Math.floor(rows / batch);
  const name = session.inputNames[0];
  const feeds = [];
  for (let c = 0; c < chunks; c++) {
    feeds.push({ [name]: new ort.Tensor('float32', data.subarray(c * batch * width, (c + 1) * batch * width), [batch, width]) });
  }
  let calls = 0;
  const t0 = now();
  while (calls < 3 || now() - t0 < repTime / 4) {
    await session.run(feeds[calls % chunks]);
    calls++;
  }
  const perRep = Math.max(1, Math.round((calls / (now() - t0)) * repTime));
  const rates = [];
  const lats = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    for (let i = 0; i < perRep; i++) await session.run(feeds[(r * perRep + i) % chunks]);
    const el = now() - t;
    rates.push((perRep * batch) / el);
    lats.push((el / perRep) * 1e6);
  }
  return [median(rates), median(lats)];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const name of o.models.split(',')) {
    const path = join(o.dir, `${name}.onnx`);
    if (!existsSync(path)) throw new Error(`${path}: not found (go run ./bench/export -o ${o.dir})`);
    for (const t of o.threads.split(',').map(Number)) {
      const session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: t,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const width = session.inputMetadata?.[0]?.shape?.[1] ?? (name === 'seed' ? 100 : 784);
      for (const batch of [1, 256]) {
        const [sps, lat] = await benchCase(session, Number(width), batch, o.reps, o.repTime, o.rows);
        console.log(`bench infer model=${name} threads=${t} batch=${batch} samples_per_s=${sps.toFixed(0)} latency_us=${lat.toFixed(2)}`);
      }
      await session.release();
    }
  }
}

main().catch((e) => {
  console.error(`ort_bench: ${e.message}`);
  process.exit(2);
});
