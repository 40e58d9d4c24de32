// npy.mjs reads and writes the .npy files aekit's Node scripts exchange
// with Go: little-endian float32 or uint8 input, float32 output.
import { readFileSync } from 'node:fs';

// readNpy parses a .npy file (format 1.0–3.0, C order) of float32 or uint8
// and returns its shape and a Float32Array. uint8 (raw pixels) is divided by
// 255, as aekit predict and train do; the double quotient of two small
// integers rounds to float32 without double-rounding error.
export function readNpy(path) {
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
  if (order[1] !== 'False') throw new Error(`${path}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const data = new Float32Array(n);
  if (descr[1] === '<f4') {
    if (buf.length - off !== 4 * n) throw new Error(`${path}: ${buf.length - off} data bytes, want ${4 * n}`);
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
  } else if (descr[1] === '|u1') {
    if (buf.length - off !== n) throw new Error(`${path}: ${buf.length - off} data bytes, want ${n}`);
    for (let i = 0; i < n; i++) data[i] = buf[off + i] / 255;
  } else {
    throw new Error(`${path}: dtype ${descr[1]}, want <f4 or |u1`);
  }
  return { dims, data };
}

// encodeNpy returns a float32 .npy file (format 1.0) of the given shape.
export function encodeNpy(dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += ' '.repeat(pad) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}
