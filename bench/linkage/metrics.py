"""Pairwise precision, recall and F1 of a clustering against the truth, and wrong merges of
related people, shared by compare.py and misses.py."""
import csv
from collections import Counter, defaultdict
from pathlib import Path


def truth_of(*paths):
    person = {}
    for p in paths:
        with open(str(p).replace(".csv", ".truth.csv")) as f:
            for row in csv.DictReader(f):
                person[row["id"]] = row["person_id"]
    return person


def relations_of(path):
    rel = Path(str(path).replace(".csv", ".truth.csv") + ".relations.csv")
    if not rel.exists():
        return []
    with open(rel) as f:
        return [(r["person_a"], r["person_b"], r["relation"]) for r in csv.DictReader(f)]


def pairs(n):
    return n * (n - 1) // 2


def quality(cluster, person):
    ids = [i for i in cluster if i in person]
    both = Counter((cluster[i], person[i]) for i in ids)
    by_c = Counter(cluster[i] for i in ids)
    by_p = Counter(person[i] for i in ids)
    agreed = sum(pairs(n) for n in both.values())
    predicted = sum(pairs(n) for n in by_c.values())
    true = sum(pairs(n) for n in by_p.values())
    precision = agreed / predicted if predicted else 1.0
    recall = agreed / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def merges(cluster, person, relations):
    clusters_of = defaultdict(set)
    for i, p in person.items():
        if i in cluster:
            clusters_of[p].add(cluster[i])
    out = Counter()
    total = Counter()
    for a, b, kind in relations:
        if a in clusters_of and b in clusters_of:
            total[kind] += 1
            if clusters_of[a] & clusters_of[b]:
                out[kind] += 1
    return {k: (out[k], total[k]) for k in total}
