"""Train a boosted-tree ensemble (XGBoost) on the scenario matrix and write a "gbt" artifact.

Called by `bun run xids gbt-train` (models/gbt/command.ts), or directly:
  /usr/bin/python3 models/gbt/train_gbt.py --out DIR [--trees 50 --depth 4] [--sweep 20,50,100x3,4,6]
Why Python: the booster is real XGBoost (Debian's python3-xgboost). Everything the kernel and the
TypeScript reference run is the integer ensemble this script derives from the booster's JSON
(models/GBT_SPEC.md): thresholds as exact integer bounds, leaves and base in Q16.
Holdout: models/datasets/matrix-holdout/seed26 is never trained on; it gives F1/recall/FPR.
"""
import argparse
import csv
import gzip
import hashlib
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MATRIX = os.path.join(REPO, "models", "datasets", "matrix")
HOLDOUT = os.path.join(REPO, "models", "datasets", "matrix-holdout", "seed26.csv.gz")
# The matrix MLP's inputs (models/artifacts/matrix-mlp/REPORT.md): every flow and context feature
# but 25 (Src Dst Addrs 10s).
FEATURES = [i for i in range(32) if i != 25]
FIRST_FEATURE_COLUMN = "Dst Port"
LEAF_SCALE = 65536  # Q16
SAFE_MAX = 2 ** 53 - 1
I32_MIN, I32_MAX = -(2 ** 31), 2 ** 31 - 1


def read_csv(path):
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    first = header.index(FIRST_FEATURE_COLUMN)
    names = header[first:first + 32]
    x = np.array([[int(r[first + i]) for i in range(32)] for r in rows[1:]], dtype=np.int64)
    label = np.array([0 if r[header.index("Label")] == "BENIGN" else 1 for r in rows[1:]], dtype=np.int64)
    scen = [r[header.index("Scenario")] for r in rows[1:]]
    src = [r[header.index("Run")] + "/" + r[header.index("Src IP")] for r in rows[1:]]
    return names, x, label, scen, src


def digest(paths):
    h = hashlib.sha256()
    for p in sorted(paths, key=os.path.basename):
        h.update(os.path.basename(p).encode())
        h.update(open(p, "rb").read())
    return "sha256:" + h.hexdigest()


def sample_training(x, y, scen, src, max_attack, max_benign, boost, power, seed):
    """At most max_attack flows per attack source and max_benign per benign one (seeded); a
    scenario's flow weighs n^-power, benign and attack equal in total x boost (as `xids loo`)."""
    rng = np.random.default_rng(seed)
    by_src = {}
    for i, s in enumerate(src):
        by_src.setdefault(s, []).append(i)
    keep = []
    for s in sorted(by_src):
        idx = by_src[s]
        cap = max_benign if y[idx[0]] == 0 else max_attack
        keep.extend(idx if len(idx) <= cap else sorted(rng.choice(idx, cap, replace=False).tolist()))
    keep = np.array(keep)
    counts = {}
    for i in keep:
        counts[scen[i]] = counts.get(scen[i], 0) + 1
    w = np.array([counts[scen[i]] ** -power for i in keep], dtype=np.float64)
    yk = y[keep]
    wb, wa = w[yk == 0].sum(), w[yk == 1].sum()
    w[yk == 0] *= boost * wa / wb
    return keep, w


def int_bound(t):
    """Largest integer x >= 0 with float32(float64(x)) < t (XGBoost's "x < t" on float32 inputs),
    -1 if none; the predicate is monotone in x, so a binary search finds it exactly."""
    t = np.float32(t)
    if not (np.float32(0.0) < t):
        return -1
    lo, hi = 0, SAFE_MAX
    if np.float32(float(hi)) < t:
        return SAFE_MAX
    while hi - lo > 1:  # invariant: f32(lo) < t <= f32(hi)
        mid = (lo + hi) // 2
        if np.float32(float(mid)) < t:
            lo = mid
        else:
            hi = mid
    return lo


def q16(v):
    q = math.floor(float(np.float32(v)) * LEAF_SCALE + 0.5)
    if q < I32_MIN or q > I32_MAX:
        raise SystemExit(f"leaf value {v} does not fit int32 in Q16")
    return q


def convert(booster):
    """The booster's JSON -> flat integer ensemble: each tree breadth first, children adjacent,
    a leaf's next = the next tree's root (-1 after the last: XIDS_GBT_END)."""
    model = json.loads(booster.save_raw("json"))["learner"]
    base_prob = float(model["learner_model_param"]["base_score"])
    base_margin = math.log(base_prob / (1 - base_prob))
    trees = model["gradient_booster"]["model"]["trees"]
    feature, threshold, nxt, depth_sum = [], [], [], 0
    roots = []
    for t in trees:
        left, right = t["left_children"], t["right_children"]
        split_idx, cond = t["split_indices"], t["split_conditions"]
        root = len(feature)
        roots.append(root)
        order, pos, depth = [0], {0: root}, {0: 0}
        feature.append(None); threshold.append(None); nxt.append(None)
        k = 0
        while k < len(order):
            node = order[k]; k += 1
            p = pos[node]
            if left[node] == -1:
                feature[p] = -1
                threshold[p] = q16(cond[node])  # a leaf's split_condition holds its value
                nxt[p] = None  # filled below
            else:
                c = len(feature)
                feature.extend([None, None]); threshold.extend([None, None]); nxt.extend([None, None])
                pos[left[node]], pos[right[node]] = c, c + 1
                depth[left[node]] = depth[right[node]] = depth[node] + 1
                order.extend([left[node], right[node]])
                feature[p] = int(split_idx[node])
                threshold[p] = int_bound(cond[node])
                nxt[p] = c
        depth_sum += max(depth.values()) + 1
    for ti, r in enumerate(roots):
        end = roots[ti + 1] if ti + 1 < len(roots) else len(feature)
        for p in range(r, end):
            if feature[p] == -1:
                nxt[p] = roots[ti + 1] if ti + 1 < len(roots) else -1
    return {
        "base": q16(base_margin), "threshold": 0, "leaf_scale": LEAF_SCALE, "trees": len(trees),
        "steps": depth_sum, "feature": feature, "split": threshold, "next": nxt,
    }


def int_margin(ens, x):
    """The integer ensemble on integer rows (n x K), vectorised; what GBT_SPEC.md defines."""
    feat = np.array(ens["feature"]); thr = np.array(ens["split"], dtype=np.int64); nxt = np.array(ens["next"])
    n = x.shape[0]
    margin = np.full(n, ens["base"], dtype=np.int64)
    idx = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    for _ in range(ens["steps"] + 1):
        if not active.any():
            break
        f = feat[idx]
        leaf = active & (f == -1)
        margin[leaf] += thr[idx[leaf]]
        done = leaf & (nxt[idx] == -1)
        active &= ~done
        inner = active & (f != -1)
        xi = x[np.nonzero(inner)[0], f[inner]]
        idx_new = idx.copy()
        idx_new[inner] = nxt[idx[inner]] + (xi > thr[idx[inner]])
        go = active & leaf
        idx_new[go] = nxt[idx[go]]
        idx = idx_new
    assert not active.any(), "walk did not end"
    return margin


def metrics(y, pred):
    tp = int(((pred == 1) & (y == 1)).sum()); fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum()); tn = int(((pred == 0) & (y == 0)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"f1": f1, "precision": prec, "recall": rec, "fpr": fp / (fp + tn) if fp + tn else 0.0,
            "tp": tp, "fp": fp, "tn": tn, "fn": fn}


def train(x, y, w, trees, depth, eta, seed):
    d = xgb.DMatrix(x.astype(np.float64).astype(np.float32), label=y, weight=w)
    params = {"objective": "binary:logistic", "max_depth": depth, "eta": eta, "tree_method": "hist",
              "seed": seed, "nthread": 2, "eval_metric": "logloss"}
    return xgb.train(params, d, num_boost_round=trees)


def evaluate(booster, ens, xh, yh):
    """Holdout metrics of the integer ensemble, and its disagreements with the float booster."""
    m = int_margin(ens, xh)
    pred_int = (m > ens["threshold"]).astype(np.int64)
    fmargin = booster.predict(xgb.DMatrix(xh.astype(np.float64).astype(np.float32)), output_margin=True)
    pred_float = (fmargin > 0).astype(np.int64)
    return metrics(yh, pred_int), int((pred_int != pred_float).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--eta", type=float, default=0.3)
    ap.add_argument("--sweep", default="", help="e.g. 20,50,100x3,4,6: one artifact per pair under OUT/sweep/")
    ap.add_argument("--max-per-attack-source", type=int, default=200)
    ap.add_argument("--max-per-benign-source", type=int, default=3000)
    ap.add_argument("--benign-boost", type=float, default=5.0)
    ap.add_argument("--scenario-weight-power", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--command", default="")
    a = ap.parse_args()

    files = sorted(os.path.join(MATRIX, f) for f in os.listdir(MATRIX) if f.endswith(".csv.gz"))
    xs, ys, scens, srcs = [], [], [], []
    for p in files:
        names, x, y, scen, src = read_csv(p)
        xs.append(x); ys.append(y); scens += scen; srcs += src
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    names_h, xh_all, yh, _, _ = read_csv(HOLDOUT)
    keep, w = sample_training(x_all, y_all, scens, srcs, a.max_per_attack_source, a.max_per_benign_source,
                              a.benign_boost, a.scenario_weight_power, a.seed)
    xtr, ytr = x_all[keep][:, FEATURES], y_all[keep]
    xh = xh_all[:, FEATURES]
    info = {"rows": int(len(y_all)), "files": len(files), "benign": int((y_all == 0).sum()), "train_rows": int(len(keep)),
            "holdout_rows": int(len(yh)), "holdout_benign": int((yh == 0).sum()),
            "data_digest": digest(files), "holdout_digest": digest([HOLDOUT])}
    print(f"data: {info['rows']} flows from {len(files)} files, {len(keep)} sampled for training; holdout {len(yh)}", file=sys.stderr)

    configs = [(a.trees, a.depth)]
    if a.sweep:
        t_list, d_list = a.sweep.split("x")
        configs = [(int(t), int(d)) for t in t_list.split(",") for d in d_list.split(",")]
    results = []
    for trees, depth in configs:
        booster = train(xtr, ytr, w, trees, depth, a.eta, a.seed)
        ens = convert(booster)
        m, disagree = evaluate(booster, ens, xh, yh)
        out = a.out if not a.sweep else os.path.join(a.out, f"t{trees}-d{depth}")
        write_artifact(out, booster, ens, m, disagree, info, names, trees, depth, a)
        results.append({"trees": trees, "depth": depth, "nodes": len(ens["feature"]), "steps": ens["steps"],
                        "holdout": m, "float_disagreements": disagree, "dir": out})
        print(f"{trees} trees depth {depth}: {len(ens['feature'])} nodes, holdout F1 {m['f1']:.4f} recall {m['recall']:.4f} "
              f"FPR {m['fpr'] * 100:.3f} %, {disagree} rows differ from the float booster", file=sys.stderr)
    json.dump(results, sys.stdout, indent=1)


def write_artifact(out, booster, ens, m, disagree, info, names, trees, depth, a):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "ensemble.json"), "w") as f:
        json.dump({k: ens[k] for k in ("base", "threshold", "leaf_scale", "trees", "steps", "feature", "split", "next")}, f, separators=(",", ":"))
    from_meta = json.load(open(os.path.join(REPO, "models", "artifacts", "matrix-mlp", "manifest.json")))
    feats = {f["index"]: f for f in from_meta["features"]}
    n_nodes = len(ens["feature"])
    manifest = {
        "format": "xids-model", "format_version": 1, "kind": "gbt",
        "features": [feats[i] for i in FEATURES],
        "training": {
            "data": "models/datasets/matrix", "data_digest": info["data_digest"], "rows": info["rows"],
            "split": {"seed": a.seed, "train": 1, "val": 0, "test": 0, "rows": {"train": info["train_rows"], "val": 0, "test": 0}},
            "class_weights": [a.benign_boost, 1], "command": a.command, "load_report": {"files": info["files"]},
            "options": {"trees": trees, "max_depth": depth, "eta": a.eta, "max_per_attack_source": a.max_per_attack_source,
                        "max_per_benign_source": a.max_per_benign_source, "scenario_weight_power": a.scenario_weight_power},
        },
        "metrics": {"test": {k: m[k] for k in ("f1", "precision", "recall", "fpr")},
                    "holdout_seed26": m, "float_disagreements_holdout": disagree},
        "gbt": {"trees": trees, "max_depth": depth, "eta": a.eta, "nodes": n_nodes, "steps": ens["steps"],
                "leaf_scale": LEAF_SCALE, "base": ens["base"], "threshold": ens["threshold"],
                "bytes": 16 * n_nodes + 24, "xgboost_version": xgb.__version__},
        "files": {"ensemble": "ensemble.json"},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write(f"""# Boosted trees (gbt): trained on the scenario matrix (models/datasets/matrix)

Reproduce: `{a.command or 'bun run xids gbt-train'}`

Data: {info['rows']} flows ({info['benign']} benign) in {info['files']} files ({info['data_digest']}); {info['train_rows']} sampled for training:
at most {a.max_per_attack_source} flows per attack source and {a.max_per_benign_source} per benign one (seed {a.seed}), a scenario's flow weighs
n^-{a.scenario_weight_power}, benign and attack equal in total x {a.benign_boost}. Holdout: seed 26 ({info['holdout_rows']} flows, {info['holdout_benign']} benign; {info['holdout_digest']}), never trained on.

Features ({len(FEATURES)}): {', '.join(f'{names[i]} [{i}]' for i in FEATURES)}.

Model: XGBoost {xgb.__version__} binary:logistic, {trees} trees of depth <= {depth}, eta {a.eta}, hist; converted to the
integer ensemble of models/GBT_SPEC.md: {n_nodes} nodes, walk of at most {ens['steps']} steps, leaves and base in Q16
(base {ens['base']}), attack iff margin > {ens['threshold']}. Kernel slot: {16 * n_nodes + 24} bytes used
(16 per node + 24 header) of the {16 * 16384 + 24}-byte slot value.

Holdout seed 26 (integer ensemble; the kernel computes the same bit for bit): F1 {m['f1']:.4f}, precision {m['precision']:.4f},
recall {m['recall']:.4f}, FPR {m['fpr'] * 100:.3f} % (tp {m['tp']}, fp {m['fp']}, tn {m['tn']}, fn {m['fn']}).
Rows where the integer ensemble's verdict differs from the float booster's (margin > 0): {disagree} of {info['holdout_rows']}.
""")


if __name__ == "__main__":
    main()
