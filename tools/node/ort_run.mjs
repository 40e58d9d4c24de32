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

// readNpy parses a little-endian float32 .npy file (format 1.0, 2.0, 3.0;
// C order).
function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${path}: bad .npy header ${header}`);
  // uint8 (raw pixels) is divided by 255, as aekit predict and train do.
  const u1 = descr[1] === '|u1';
  if (descr[1] !== '<f4' && !u1) throw new Error(`${path}: dtype ${descr[1]}, want <f4 or |u1`);
  if (order[1] !== 'False') throw new Error(`${path}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const size = u1 ? 1 : 4;
  if (buf.length - off !== size * n) throw new Error(`${path}: ${buf.length - off} data bytes, want ${size * n}`);
  const data = new Float32Array(n);
  if (u1) {
    for (let i = 0; i < n; i++) data[i] = buf[off + i] / 255;
  } else {
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
  }
  return { dims, data };
}

// writeNpy writes a float32 .npy file (format 1.0).
function writeNpy(path, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

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
  writeNpy(job.output, y.dims, y.data);
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
