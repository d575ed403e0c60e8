"""Writes pseudopeople's sample data in Safeguard's person-file columns, with its truth and the
household relations: a held-out evaluation, made elsewhere and for this purpose.

pseudopeople (Institute for Health Metrics and Evaluation, University of Washington; PyPI,
BSD-3-Clause) simulates a fictional United States population and writes the records that
censuses, surveys, benefit programmes, the Social Security Administration and the tax
authority would hold of it, each with its own noise (typos, OCR and phonetic errors,
nicknames, fake names, swapped month and day, digits miskeyed, values copied from a household
member, missing values), designed for testing entity resolution. Its sample population (one
town of about 10,000 people) ships inside the package, so nothing is downloaded.

Nothing in Safeguard was written or tuned against it: the figures it gives are the first and
only ones (see the issue note that added it), and a change made because of them would spoil it.

    python pseudopeople_sample.py OUT.csv

combines every agency-like source of one person into one file to deduplicate, as agencies'
records of one person are: the 2020 census, the ACS and CPS surveys, WIC (a benefit for
mothers and young children), the Social Security records (a number and a date of birth, no
address) and the 2020 W-2 and 1099 tax forms (a number and an address, no date of birth).
The returns that describe other people (1040s naming a spouse and dependants) are left out.

Columns: the social security number goes where an NHS number would (an identifier without a
check digit); the ZIP code, which in the sample town is 00000 for every address and so says
nothing, is left out, and the street address is the address. Writes OUT.truth.csv
(id,person_id) and OUT.truth.csv.relations.csv (person_a,person_b,relation) from the census's
households: twins (children of a household born the same day), siblings, parent and child,
spouses and partners, and others of one household.
"""
import csv
import sys
from itertools import combinations

import pandas as pd
import pseudopeople as psp

COLUMNS = ["id", "given_name", "surname", "date_of_birth", "sex", "postcode", "address", "nhs_number"]
CHILD = {"Biological child", "Adopted child", "Stepchild", "Foster child"}
PARTNER = {"Opposite-sex spouse", "Same-sex spouse", "Opposite-sex unmarried partner",
           "Same-sex unmarried partner"}


def text(v):
    return "" if v is None or pd.isna(v) else str(v).strip()


def iso(v, order):
    """A date as YYYY-MM-DD from the source's own layout; anything else is left out."""
    d = text(v).replace("/", "")
    if len(d) != 8 or not d.isdigit():
        return ""
    y, m, day = {"mdy": (d[4:], d[:2], d[2:4]), "ymd": (d[:4], d[4:6], d[6:])}[order]
    return f"{y}-{m}-{day}"


def address(r, prefix=""):
    return " ".join(text(r.get(f"{prefix}{c}")) for c in ("street_number", "street_name", "unit_number")
                    if text(r.get(f"{prefix}{c}")))


def rows():
    # pseudopeople's defaults: the sample data, seed 0, the year 2020 (the Social Security
    # records up to it), the noise it calls realistic.
    sources = [
        ("census", psp.generate_decennial_census(), "mdy", ""),
        ("acs", psp.generate_american_community_survey(), "mdy", ""),
        ("cps", psp.generate_current_population_survey(), "mdy", ""),
        ("wic", psp.generate_women_infants_and_children(), "mdy", ""),
        ("ssa", psp.generate_social_security(), "ymd", None),
        ("tax", psp.generate_taxes_w2_and_1099(), None, "mailing_address_"),
    ]
    for name, frame, dates, prefix in sources:
        for i, r in enumerate(frame.to_dict("records")):
            yield {
                "id": f"{name}-{i}",
                "given_name": text(r.get("first_name")),
                "surname": text(r.get("last_name")),
                "date_of_birth": iso(r.get("date_of_birth"), dates) if dates else "",
                "sex": text(r.get("sex")),
                "postcode": "",
                "address": address(r, prefix) if prefix is not None else "",
                "nhs_number": text(r.get("ssn")).replace("-", ""),
                "person": text(r.get("simulant_id")),
            }


def relations(census):
    out = set()
    # Group quarters (dormitories, care homes, prisons) hold unrelated people: not households.
    census = census[census["housing_type"] == "Household"]
    for _, home in census.groupby("household_id"):
        people = home.drop_duplicates("simulant_id").to_dict("records")
        for a, b in combinations(people, 2):
            ra, rb = a["relationship_to_reference_person"], b["relationship_to_reference_person"]
            if ra in CHILD and rb in CHILD:
                kind = "twins" if text(a["date_of_birth"]) == text(b["date_of_birth"]) else "siblings"
            elif {ra, rb} & CHILD and "Reference person" in {ra, rb}:
                kind = "parent_child"
            elif {ra, rb} & PARTNER and "Reference person" in {ra, rb}:
                kind = "spouses"
            else:
                kind = "household"
            pa, pb = sorted((a["simulant_id"], b["simulant_id"]))
            if pa != pb:
                out.add((pa, pb, kind))
    return sorted(out)


def main():
    out = sys.argv[1]
    records = list(rows())
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(records)
    truth = out.replace(".csv", ".truth.csv")
    with open(truth, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "person_id"])
        w.writerows((r["id"], r["person"]) for r in records)
    with open(truth + ".relations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_a", "person_b", "relation"])
        w.writerows(relations(psp.generate_decennial_census()))
    print(f"{len(records)} records of {len({r['person'] for r in records})} people", file=sys.stderr)


if __name__ == "__main__":
    main()
