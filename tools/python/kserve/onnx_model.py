"""The KServe peer of the serve benchmark (bench/serve.sh): KServe's Python
model server with a small custom model that runs an ONNX file with ONNX
Runtime, as a Python team would deploy an autoencoder. It speaks the Open
Inference Protocol v2 over REST (JSON and binary tensors) and gRPC.

    .venv-kserve/bin/python tools/python/kserve/onnx_model.py \
        --model_name ae --model_path model.onnx --http_port 8080 --grpc_port 8081

Every request is run as it comes (KServe's Python server has no dynamic
batching of its own; in a cluster that is an agent's job). --intra_threads
sets ONNX Runtime's intra-op threads (default 1: the server's event loop is
one process; more workers mean more processes, KServe's --workers, which
serve REST from each worker and gRPC from the first).

KServe binds 0.0.0.0 (REST) and [::] (gRPC) with no flag to change it;
--bind (default 127.0.0.1) rebinds both to one address so the benchmark
stays on loopback.
"""

import argparse
import uuid

import numpy as np
import onnxruntime as ort
import uvicorn
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
from kserve import model_server
from kserve.protocol.grpc import server as grpc_server


class ONNXModel(Model):
    """One ONNX model with one input and one output, run by ONNX Runtime."""

    def __init__(self, name: str, path: str, intra_threads: int):
        super().__init__(name)
        self.path = path
        self.intra_threads = intra_threads
        self.session = self.input = self.output = None
        self.load()

    def load(self) -> bool:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.intra_threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(self.path, opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]
        self.output = self.session.get_outputs()[0]
        self.ready = True
        return self.ready

    # With --workers > 1 KServe pickles the model into each worker process:
    # the ONNX Runtime session is left out and made again there.
    def __getstate__(self):
        state = self.__dict__.copy()
        for k in ("session", "input", "output"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.load()

    def get_input_types(self):
        return [{"name": self.input.name, "datatype": "FP32", "shape": [-1, self.input.shape[1]]}]

    def get_output_types(self):
        return [{"name": self.output.name, "datatype": "FP32", "shape": [-1, self.output.shape[1]]}]

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        x = payload.inputs[0].as_numpy().astype(np.float32, copy=False)
        (y,) = self.session.run([self.output.name], {self.input.name: x})
        out = InferOutput(name=self.output.name, shape=list(y.shape), datatype="FP32")
        out.set_data_from_numpy(y, binary_data=payload.use_binary_outputs)
        return InferResponse(
            response_id=payload.id or str(uuid.uuid4()),
            model_name=self.name,
            infer_outputs=[out],
            use_binary_outputs=payload.use_binary_outputs,
        )


class _BoundConfig(uvicorn.Config):
    """uvicorn's Config listening on BIND_HOST, whatever KServe asks (at
    module level so that KServe's --workers can pickle it)."""

    def __init__(self, *args, **kwargs):
        kwargs["host"] = BIND_HOST
        super().__init__(*args, **kwargs)


BIND_HOST = "127.0.0.1"


def bind_to(host: str):
    """Make KServe's REST (uvicorn) and gRPC servers listen on host only."""
    global BIND_HOST
    BIND_HOST = host
    uvicorn.Config = _BoundConfig
    new_server = grpc_server.aio.server

    def bound_server(*args, **kwargs):
        srv = new_server(*args, **kwargs)
        add = srv.add_insecure_port
        srv.add_insecure_port = lambda addr: add(addr.replace("[::]", host))
        return srv

    grpc_server.aio = type("aio", (), {"server": staticmethod(bound_server)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument("--model_path", required=True, help="the ONNX file")
    parser.add_argument("--intra_threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--bind", default="127.0.0.1", help="the address both servers listen on")
    args, _ = parser.parse_known_args()
    bind_to(args.bind)
    model = ONNXModel(args.model_name, args.model_path, args.intra_threads)
    ModelServer().start([model])
