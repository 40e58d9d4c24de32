"""Runs onnx.checker.check_model(model, full_check=True) of the reference
environment's onnx on every file named, in one process:

    python onnx_check.py FILE.onnx...

It prints "FAIL <file> <message>" (one line) per failing file, then
"checked <n>", and exits 1 if any file failed.
"""
import sys

import onnx
import onnx.checker


def main(files):
    bad = 0
    for f in files:
        try:
            onnx.checker.check_model(onnx.load(f), full_check=True)
        except Exception as e:  # every file is checked; failures are listed
            bad += 1
            print("FAIL", f, str(e).replace("\n", " "), flush=True)
    print("checked", len(files))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
