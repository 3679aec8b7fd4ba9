"""Train XGBoost for xids (called by models/xgb/xgb.ts; not a CLI of its own).

Why Python: the issue asks for real XGBoost. Everything else (data, split, ONNX) is TypeScript;
this script only trains on the CSVs it is given and dumps the model JSON plus its own test
predictions, so ONNX Runtime can be checked against XGBoost row by row.
argv: job.json with train_csv (features..., label, weight; no header), test_csv (features; no
header), params, rounds, model_out, pred_out.
"""
import json
import sys

import numpy as np
import xgboost as xgb


def main() -> None:
    job = json.load(open(sys.argv[1]))
    train = np.loadtxt(job["train_csv"], delimiter=",", dtype=np.float64, ndmin=2)
    x, y, w = train[:, :-2], train[:, -2], train[:, -1]
    dtrain = xgb.DMatrix(x.astype(np.float32), label=y, weight=w)
    booster = xgb.train(job["params"], dtrain, num_boost_round=job["rounds"])
    booster.save_model(job["model_out"])
    test = np.loadtxt(job["test_csv"], delimiter=",", dtype=np.float64, ndmin=2)
    prob = booster.predict(xgb.DMatrix(test.astype(np.float32)))
    with open(job["pred_out"], "w") as f:
        json.dump({"xgboost_version": xgb.__version__, "prob": [float(p) for p in prob]}, f)


if __name__ == "__main__":
    main()
