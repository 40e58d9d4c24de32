// ort_run.mjs runs ONNX models in ONNX Runtime (onnxruntime-node, CPU,
// one thread) on float32 .npy inputs and writes the outputs as float32 .npy
// files. aekit's interop tests use it as the independent reference.
//
//   node ort_run.mjs MODEL.onnx IN.npy OUT.npy
//   node ort_run.mjs --jobs JOBS.json
//
// JOBS.json is a list of {"model": ..., "input": ..., "output": ...} paths,
// run in one process to save start-up time. For each job it prints one JSON
// line: {"output": path, "dims": [...]} or {"output": path, "error": msg}.
// The exit status is 1 if any job failed.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { readNpy, encodeNpy } from './npy.mjs';

async function run(job) {
  const session = await ort.InferenceSession.create(job.model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const x = readNpy(job.input);
  // (n, 28, 28) images feed a model whose input is (n, 784): flatten the
  // sample axes when the model's input has rank 2.
  const meta = session.inputMetadata?.[0];
  if (meta?.isTensor && meta.shape.length === 2 && x.dims.length > 2) {
    x.dims = [x.dims[0], x.data.length / x.dims[0]];
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
  const out = await session.run(feeds);
  const y = out[session.outputNames[0]];
  if (y.type !== 'float32') throw new Error(`output type ${y.type}`);
  writeFileSync(job.output, encodeNpy(y.dims, y.data));
  return y.dims;
}

const args = process.argv.slice(2);
let jobs;
if (args.length === 2 && args[0] === '--jobs') {
  jobs = JSON.parse(readFileSync(args[1], 'utf8'));
} else if (args.length === 3) {
  jobs = [{ model: args[0], input: args[1], output: args[2] }];
} else {
  process.stderr.write('usage: node ort_run.mjs MODEL.onnx IN.npy OUT.npy | --jobs JOBS.json\n');
  process.exit(2);
}
let failed = false;
for (const job of jobs) {
  try {
    const dims = await run(job);
    process.stdout.write(JSON.stringify({ output: job.output, dims }) + '\n');
  } catch (e) {
    failed = true;
    process.stdout.write(JSON.stringify({ output: job.output, error: String(e.message || e) }) + '\n');
  }
}
process.exit(failed ? 1 : 0);
