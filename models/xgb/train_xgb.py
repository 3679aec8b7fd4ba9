"""Train XGBoost for xids (called by models/xgb/xgb.ts; not a CLI of its own).

Why Python: the issue asks for real XGBoost. Everything else (data, split, ONNX) is TypeScript;
this script only trains on the CSVs it is given and dumps the model JSON plus its own test
predictions, so ONNX Runtime can be checked against XGBoost row by row.
argv: job.json with train_csv (features..., label, weight; no header), test_csv (features; no
header), params, rounds, model_out, pred_out.
Or: predict <model.json> <features.csv> <out.json>.
"""
import json
import sys

import numpy as np
import xgboost as xgb


def predict(model_path: str, csv_path: str, out_path: str) -> None:
    """Score a headerless feature CSV with a saved model (used by the agreement test)."""
    booster = xgb.Booster(model_file=model_path)
    x = np.loadtxt(csv_path, delimiter=",", dtype=np.float64, ndmin=2)
    prob = booster.predict(xgb.DMatrix(x.astype(np.float32)))
    with open(out_path, "w") as f:
        json.dump({"xgboost_version": xgb.__version__, "prob": [float(p) for p in prob]}, f)


def main() -> None:
    if sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3], sys.argv[4])
        return
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
