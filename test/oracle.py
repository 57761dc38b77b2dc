"""PyTorch oracle for robustok's parity tests.

Reads one JSON document on stdin: {"cases": [{"name", "expr", "inputs",
"gradWeights"}]}, where each input is {"data": flat list, "shape", "dtype",
"requiresGrad"} and `expr` is a Python expression over x0, x1, ... (torch,
F and math are in scope). Writes {"results": [{"outputs": [...], "grads":
[...]}]} with every tensor flattened to float64 lists. When a case has
gradWeights (one flat list per output), it back-propagates
sum_i sum(output_i * weight_i) and returns each input's gradient.

Run with Debian's interpreter (/usr/bin/python3), where python3-torch lives.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

DTYPES = {
    "float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "int32": torch.int32,
    "uint8": torch.uint8, "bool": torch.bool, "bfloat16": torch.bfloat16, "float16": torch.float16,
    "int16": torch.int16, "int8": torch.int8,
}


def make_input(spec):
    t = torch.tensor(spec["data"], dtype=torch.float64).reshape(spec["shape"]).to(DTYPES[spec["dtype"]])
    if spec.get("requiresGrad"):
        t.requires_grad_(True)
    return t


def flat(t):
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t)
    return {"data": t.to(torch.float64).reshape(-1).tolist(), "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}


def run(case):
    torch.manual_seed(case.get("seed", 0))
    xs = [make_input(s) for s in case["inputs"]]
    scope = {"torch": torch, "F": F, "math": math}
    scope.update({f"x{i}": x for i, x in enumerate(xs)})
    exec(case.get("setup", ""), scope)
    out = eval(case["expr"], scope)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    result = {"outputs": [flat(o) for o in outs]}
    weights = case.get("gradWeights")
    if weights is not None:
        loss = sum((o * torch.tensor(w, dtype=o.dtype).reshape(o.shape)).sum() for o, w in zip(outs, weights) if w is not None)
        wanted = [x for x in xs if x.requires_grad]
        grads = torch.autograd.grad(loss, wanted, allow_unused=True)
        it = iter(grads)
        result["grads"] = [(lambda g: None if g is None else flat(g))(next(it)) if x.requires_grad else None for x in xs]
    return result


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        try:
            results.append(run(case))
        except Exception as error:  # reported per case, so one bad case names itself
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
