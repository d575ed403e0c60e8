"""Runs Safeguard, Splink and recordlinkage on each dataset and prints the table."""
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from metrics import merges, quality, relations_of, truth_of

work = Path(sys.argv[1])
safeguard = sys.argv[2]


def run_safeguard(files, link_only, textbook=False, threshold=None):
    out = work / "safeguard-clusters.csv"
    review = work / "safeguard-review.csv"
    args = [safeguard, "link", "--output", str(out), "--review", str(review)]
    args += ["--textbook"] if textbook else []
    args += ["--threshold", str(threshold)] if threshold else []
    args += ["--link-only", *map(str, files)] if link_only else ["--input", str(files[0])]
    started = time.perf_counter()
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    global reviewed
    with open(review) as f:
        reviewed = sum(1 for _ in csv.DictReader(f))
    with open(out) as f:
        return {r["id"]: r["cluster_id"] for r in csv.DictReader(f)}, seconds


def run_splink(files, link_only):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None) for p in files]
    for f in frames:
        # Splink's date comparison wants full ISO dates; partial ones become unknown
        f["date_of_birth"] = f["date_of_birth"].where(f["date_of_birth"].str.len() == 10)
        f["birth_year"] = f["date_of_birth"].str[:4]
    # As Splink's documentation recommends for person data: name, date of birth and postcode
    # comparisons with term-frequency adjustment on names; u by random sampling; the prior
    # from deterministic rules; m by EM in sessions blocked on different fields.
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        unique_id_column_name="id",
        blocking_rules_to_generate_predictions=[
            block_on("surname", "date_of_birth"),
            block_on("given_name", "postcode"),
            block_on("date_of_birth", "postcode"),
            block_on("substr(surname, 1, 1)", "date_of_birth"),
            block_on("nhs_number"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nhs_number"),
        ],
    )
    db = DuckDBAPI()
    tables = [db.register(f) for f in frames]
    linker = Linker(tables if link_only else tables[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    # Names and date of birth: at a million records a session blocked on surname alone holds
    # billions of pairs, and DuckDB filled 60 GB of disk with them.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    frame = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    return dict(zip(frame["id"].astype(str), frame["cluster_id"].astype(str))), seconds


def run_splink_febrl(files, link_only):
    """Splink on FEBRL's own columns, set up as its FEBRL4 example (docs/demos/examples/duckdb/
    febrl4.ipynb) sets up its detailed model: the example's blocking rules, comparisons and
    training; clustered at 0.5, where it does best (0.99 in the example)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    frames = [pd.read_csv(str(p).replace(".csv", ".raw.csv"), dtype=str, keep_default_na=False)
              .replace("", None) for p in files]
    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only" if link_only else "dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True),
        ],
    )
    db = DuckDBAPI()
    tables = [db.register(f) for f in frames]
    linker = Linker(tables if link_only else tables[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, float(os.environ.get("SPLINK_EX_THRESHOLD", "0.5")))
    frame = clusters.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    return dict(zip(frame["rec_id"].astype(str), frame["cluster_id"].astype(str))), seconds


def run_recordlinkage(files, link_only):
    """recordlinkage (the Python Record Linkage Toolkit), a second peer, set up as its
    documentation's unsupervised example sets up FEBRL: candidate pairs from the same blocking
    keys as Splink's, each field compared as agreeing or not (names by Jaro-Winkler at 0.85, the
    address by Levenshtein at 0.85, the rest exactly), and the ECM classifier (Fellegi-Sunter
    fitted by EM) deciding matches, clustered as connected components."""
    import recordlinkage

    started = time.perf_counter()
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None).set_index("id")
              for p in files]
    for f in frames:
        f["surname_initial"] = f["surname"].str[:1]
    indexer = recordlinkage.Index()
    for keys in (["surname", "date_of_birth"], ["given_name", "postcode"],
                 ["date_of_birth", "postcode"], ["surname_initial", "date_of_birth"],
                 ["nhs_number"]):
        indexer.block(keys)
    pairs = indexer.index(*frames) if link_only else indexer.index(frames[0])
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("sex", "sex")
    compare.exact("postcode", "postcode")
    compare.string("address", "address", method="levenshtein", threshold=0.85)
    compare.exact("nhs_number", "nhs_number")
    features = compare.compute(pairs, *(frames if link_only else frames[:1]))
    matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    # Connected components of the matched pairs: each record's cluster is its root's id.
    parent = {}

    def root(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    prefix = ["a:", "b:"] if link_only else ["", ""]
    for a, b in matches:
        ra, rb = root(prefix[0] + a), root(prefix[1] + b)
        if ra != rb:
            parent[ra] = rb
    cluster = {}
    for side, f in enumerate(frames):
        for i in f.index:
            cluster[i] = root(prefix[side] + i)
    return cluster, time.perf_counter() - started


# Sets larger than this are not given to recordlinkage: it holds every candidate pair and its
# comparison in memory as pandas frames.
RECORDLINKAGE_MOST = 250_000

datasets = [
    ("FEBRL4 (link 5,000 + 5,000)", [work / "febrl4a.csv", work / "febrl4b.csv"], True),
    ("FEBRL3 (dedupe 5,000)", [work / "febrl3.csv"], False),
    ("UK-style generated (dedupe)", [work / "uk.csv"], False),
    # ukgen.py: written apart from the engine and its generator, not tuned against
    ("UK-style, second generator", [work / "uk2.csv"], False),
    # pseudopeople_sample.py: IHME's simulated US population, six sources; held out
    ("pseudopeople sample (held out)", [work / "ppl.csv"], False),
]
# DATASETS=uk (or febrl4, febrl3, comma-separated) and TOOLS=safeguard,splink run a part.
import os
only = os.environ.get("DATASETS")
if only:
    keys = {"febrl4": "FEBRL4", "febrl3": "FEBRL3", "uk": "UK-style generated",
            "uk2": "UK-style, second", "ppl": "pseudopeople"}
    datasets = [d for d in datasets if any(d[0].startswith(keys[k]) for k in only.split(","))]
tools_wanted = os.environ.get("TOOLS")


def tools_for(name, files):
    # "textbook": Safeguard's engine without the household class and the twin rules, to show
    # what those cost on data that has no households (FEBRL) and what they prevent on data
    # that has (the generated set).
    textbook = lambda f, l: run_safeguard(f, l, textbook=True)
    tools = [("safeguard", run_safeguard), ("textbook", textbook), ("splink", run_splink)]
    if sum(1 for f in files for _ in open(f)) <= RECORDLINKAGE_MOST:
        tools.append(("recordlink", run_recordlinkage))
    if name.startswith("FEBRL"):
        tools.append(("splink-ex", run_splink_febrl))
        # Safeguard joining at the probability Splink's example clusters at (0.5), like for
        # like; its default (0.95, the first row) leaves pairs between for a person.
        tools.append(("sg@0.5", lambda f, l: run_safeguard(f, l, threshold=0.5)))
    return tools


# Each tool runs in a process of its own (this script again, told which by COMPARE_ONE), so
# that its peak memory is its own: Splink runs inside Python, Safeguard as a program.
one = os.environ.get("COMPARE_ONE")
if one:
    tool_name, dataset_name, out_path = one.split("|")
    name, files, link_only = next(d for d in datasets if d[0] == dataset_name)
    reviewed = None
    run = dict(tools_for(name, files))[tool_name]
    cluster, seconds = run(files, link_only)
    # The peak of this process's memory since it began (VmHWM, in kB: the kernel's maximum
    # resident set would carry over the parent's from before the exec), and of the programs
    # it ran (Safeguard).
    with open("/proc/self/status") as f:
        own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    import resource
    peak_kb = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    with open(out_path, "w") as f:
        json.dump({"cluster": cluster, "seconds": seconds, "reviewed": reviewed,
                   "peak_mb": peak_kb / 1024}, f)
    sys.exit(0)


def measured(tool, name):
    """A tool's clusters, wall time, pairs for review and peak memory (MB) on a data set."""
    out_path = work / "compare-one.json"
    env = dict(os.environ, COMPARE_ONE=f"{tool}|{name}|{out_path}")
    if subprocess.run([sys.executable, __file__, str(work), safeguard], env=env).returncode:
        sys.exit(f"{tool} on {name} failed")
    with open(out_path) as f:
        result = json.load(f)
    return result["cluster"], result["seconds"], result["reviewed"], result["peak_mb"]


# review: pairs left for a person per 1,000 records (Splink proposes none: it has no review)
print(f"{'dataset':32} {'tool':10} {'precision':>9} {'recall':>7} {'F1':>7} {'review':>6} {'seconds':>8} {'peak MB':>8}  wrong merges of related people")
for name, files, link_only in datasets:
    person = truth_of(*files)
    relations = relations_of(files[0])
    for tool, _ in tools_for(name, files):
        if tools_wanted and tool not in tools_wanted.split(","):
            continue
        cluster, seconds, reviewed, peak = measured(tool, name)
        p, r, f1 = quality(cluster, person)
        m = merges(cluster, person, relations)
        merged = ", ".join(f"{k} {a}/{t} ({100 * a / t:.1f}%)" for k, (a, t) in sorted(m.items()))
        per_1000 = f"{1000 * reviewed / len(cluster):6.1f}" if reviewed is not None else "     -"
        print(f"{name:32} {tool:10} {p:9.4f} {r:7.4f} {f1:7.4f} {per_1000} {seconds:8.1f} {peak:8.0f}  {merged}",
              flush=True)
