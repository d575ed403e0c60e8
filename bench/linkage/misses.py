"""Which true pairs a linker left apart, and which wrong pairs it joined, by shape.

    python3 misses.py PEOPLE.csv CLUSTERS.csv

reads PEOPLE.csv's truth beside it (PEOPLE.truth.csv) and a linker's `id,cluster_id` file,
and prints the missed pairs counted by what their two records share and differ in (a
diagnosis, not a score: the score is compare.py's)."""
import csv
import sys
from collections import Counter, defaultdict
from itertools import combinations

from metrics import merges, quality, relations_of


def digits(s):
    return "".join(c for c in s if c.isdigit())


def valid_nhs(n):
    if len(n) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(n[:9], range(10, 1, -1)))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(n[9])


def shape(a, b):
    """Words for how two records compare."""
    out = []
    na, nb = digits(a["nhs_number"]), digits(b["nhs_number"])
    if na and nb:
        out.append("same NHS" if na == nb and valid_nhs(na) else "NHS differs")
    else:
        out.append("NHS one side" if na or nb else "no NHS")
    da, db = a["date_of_birth"], b["date_of_birth"]
    if not da or not db:
        out.append("DOB missing")
    elif da == db:
        out.append("DOB same")
    else:
        out.append("DOB differs")
    ga, gb = a["given_name"].lower(), b["given_name"].lower()
    fa, fb = a["surname"].lower(), b["surname"].lower()
    if ga == fb and fa == gb and ga != fa:
        out.append("names swapped")
    else:
        out.append("given same" if ga == gb else
                   ("given initial" if len(ga) <= 2 or len(gb) <= 2 else "given differs"))
        out.append("family same" if fa == fb else "family differs")
    pa = a["postcode"].replace(" ", "").upper()
    pb = b["postcode"].replace(" ", "").upper()
    out.append("postcode same" if pa and pa == pb else
               ("postcode missing" if not pa or not pb else "postcode differs"))
    return ", ".join(out)


people_path, clusters_path = sys.argv[1], sys.argv[2]
with open(people_path) as f:
    rows = {r["id"]: r for r in csv.DictReader(f)}
with open(people_path.replace(".csv", ".truth.csv")) as f:
    person = {r["id"]: r["person_id"] for r in csv.DictReader(f)}
with open(clusters_path) as f:
    cluster = {r["id"]: r["cluster_id"] for r in csv.DictReader(f)}

members = defaultdict(list)
for i, p in person.items():
    members[p].append(i)
missed = Counter()
split_persons = 0
for p, ids in members.items():
    if len({cluster[i] for i in ids}) > 1:
        split_persons += 1
    for a, b in combinations(ids, 2):
        if cluster[a] != cluster[b]:
            missed[shape(rows[a], rows[b])] += 1
wrong = Counter()
by_cluster = defaultdict(list)
for i, c in cluster.items():
    by_cluster[c].append(i)
for ids in by_cluster.values():
    if len(ids) > 60:
        continue
    for a, b in combinations(ids, 2):
        if person[a] != person[b]:
            wrong[shape(rows[a], rows[b])] += 1
precision, recall, f1 = quality(cluster, person)
print(f"precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f}")
for kind, (n, of) in sorted(merges(cluster, person, relations_of(people_path)).items()):
    print(f"  {kind}: {n}/{of} merged ({100 * n / max(of, 1):.2f}%)")
total = sum(missed.values())
print(f"missed pairs {total}, persons split {split_persons} of {len(members)}")
for k, n in missed.most_common(25):
    print(f"  {n:7}  {100 * n / max(total, 1):5.1f}%  {k}")
print(f"wrong pairs {sum(wrong.values())}")
for k, n in wrong.most_common(12):
    print(f"  {n:7}  {k}")
