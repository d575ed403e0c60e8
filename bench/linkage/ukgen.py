"""A second generator of UK-style person records, written apart from Safeguard's own
(`safeguard link generate`, crates/safeguard-linkage/src/synthetic.rs) and before the engine was
run on it: its own population, its own agencies, its own corruption model, and its own name
tables (none read from Safeguard's data/nicknames.csv). Standard library only.

    python3 ukgen.py OUT.csv [--records N] [--seed S]

writes OUT.csv (id,given_name,surname,date_of_birth,sex,postcode,address,nhs_number),
OUT.truth.csv (id,person_id) and OUT.truth.csv.relations.csv (person_a,person_b,relation).

Where the rates come from (approximate; the point is their shape across agencies, not their
third decimal):
- NHS number on the record: GP registrations and maternity almost always (NHS Digital's Data
  Quality Maturity Index puts NHS number validity in admitted-patient and A&E data in the high
  90s per cent); emergency departments somewhat less (unidentified and out-of-area patients);
  children's social care about two thirds (local authorities report partial NHS number
  recording; the DfE's CIN census does not collect it); schools never (they hold the UPN);
  police almost never.
- Dates of birth: complete in health and education; police intelligence and housing records
  often lack them; unknown days and months defaulted to 1 January (a known pattern in records
  of asylum-seeking and unaccompanied children, and in emergency registrations); day and month
  swapped in a small share (US-format entry); one-digit keying errors.
- Names: diminutives used by the person ("Gaz", "Kez", "Jonny") in police, school and
  emergency records; given and family names entered in the wrong order (more often for names
  whose order conventions differ); married and maiden surnames for women who changed name
  (most women in the UK who marry take their spouse's surname, per published surveys);
  double-barrelled surnames written in part; typos at a few per cent.
- Addresses: moves between records (a record keeps the address of its date), flat numbers in
  three formats, street types abbreviated, postcodes missing or mistyped.
Every rate is a constant below, so a reader can disagree with one and change it.
"""
import argparse
import csv
import random
import sys
from datetime import date, timedelta

# Given names by sex: a UK mix (birth-registration favourites across decades, and names of
# South Asian, West African, Eastern European and Irish heritage). Deliberately its own list.
FEMALE = ("Olivia Amelia Isla Ava Emily Sophie Grace Lily Mia Ella Chloe Jessica Lucy Charlotte "
          "Ruby Holly Megan Hannah Lauren Bethany Rebecca Sarah Emma Laura Gemma Kirsty Leanne "
          "Kerry Sharon Tracey Karen Michelle Donna Joanne Nicola Claire Louise Lisa Samantha "
          "Katherine Elizabeth Margaret Patricia Susan Deborah Jennifer Victoria Natalie Danielle "
          "Stephanie Zoe Aisha Fatima Zainab Maryam Amina Priya Anjali Simran Harpreet Nadia "
          "Oluwaseun Chiamaka Ngozi Adaeze Agnieszka Katarzyna Magdalena Aoife Siobhan Niamh "
          "Roisin Jade Courtney Chantelle Shannon Paige Amber Jasmine Poppy Freya Evie Maisie "
          "Abigail Alexandra Caroline Helen Jacqueline Theresa Christine Kimberley").split()
MALE = ("Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Joshua Daniel "
        "Samuel Benjamin Matthew Luke Ryan Liam Connor Callum Kieran Jordan Bradley Jamie Lee "
        "Wayne Darren Gary Barry Craig Dean Shaun Stuart Paul Mark David Andrew Michael "
        "Christopher Anthony Stephen Richard Robert Jonathan Nicholas Alexander Edward Patrick "
        "Terence Kenneth Raymond Mohammed Muhammad Ahmed Ali Omar Yusuf Hamza Ibrahim Arjun "
        "Rohan Harjit Gurpreet Oluwadamilare Chukwuemeka Emeka Tunde Piotr Krzysztof Tomasz "
        "Lukasz Ciaran Declan Padraig Eoin Tyler Kyle Reece Mason Alfie Archie Freddie Theo "
        "Leo Arthur Logan Ethan Zachary Dominic Gareth Rhys Dylan Owen").split()

# Diminutives people go by, written for this generator: the English short forms and the
# British "-z" forms. Not every name has one.
DIMINUTIVES = {
    "Gary": ["Gaz"], "Barry": ["Baz"], "Darren": ["Daz"], "Sharon": ["Shaz"], "Kerry": ["Kez"],
    "Karen": ["Kaz"], "Sarah": ["Saz"], "Lauren": ["Loz"], "Warren": ["Waz"], "Kieran": ["Kez"],
    "Jonathan": ["Jon", "Jonny"], "Daniel": ["Dan", "Danny"], "Samuel": ["Sam", "Sammy"],
    "Benjamin": ["Ben", "Benji"], "Matthew": ["Matt", "Matty"], "Thomas": ["Tom", "Tommy"],
    "James": ["Jim", "Jimmy", "Jamie"], "William": ["Will", "Billy", "Bill"],
    "Joshua": ["Josh"], "Christopher": ["Chris"], "Anthony": ["Tony", "Ant"],
    "Stephen": ["Steve", "Stevie"], "Richard": ["Rich", "Richie", "Dick"],
    "Robert": ["Rob", "Bob", "Bobby", "Robbie"], "Nicholas": ["Nick", "Nicky"],
    "Alexander": ["Alex", "Sandy"], "Edward": ["Ed", "Eddie", "Ted"], "Patrick": ["Pat", "Paddy"],
    "Terence": ["Terry", "Tel"], "Kenneth": ["Ken", "Kenny"], "Raymond": ["Ray"],
    "Michael": ["Mike", "Mick", "Micky"], "Andrew": ["Andy", "Drew"], "David": ["Dave", "Davy"],
    "Frederick": ["Fred"], "Alfred": ["Alf"], "Archibald": ["Archie"], "Zachary": ["Zac"],
    "Mohammed": ["Mo"], "Muhammad": ["Mo"], "Ibrahim": ["Ibby"], "Oluwadamilare": ["Dami"],
    "Oluwaseun": ["Seun"], "Chukwuemeka": ["Emeka"], "Katarzyna": ["Kasia"],
    "Magdalena": ["Magda"], "Agnieszka": ["Aga"], "Krzysztof": ["Krzys"], "Tomasz": ["Tomek"],
    "Elizabeth": ["Liz", "Beth", "Lizzie"], "Margaret": ["Maggie", "Peggy", "Meg"],
    "Patricia": ["Pat", "Trish"], "Susan": ["Sue", "Suzy"], "Deborah": ["Debbie", "Deb"],
    "Jennifer": ["Jen", "Jenny"], "Victoria": ["Vicky", "Tori"], "Rebecca": ["Becky", "Bex"],
    "Samantha": ["Sam", "Sammie"], "Katherine": ["Kate", "Katie", "Kath"],
    "Stephanie": ["Steph"], "Danielle": ["Dani"], "Jacqueline": ["Jackie"],
    "Theresa": ["Tess", "Terri"], "Christine": ["Chris", "Chrissie"], "Kimberley": ["Kim"],
    "Alexandra": ["Alex", "Lexi"], "Abigail": ["Abi", "Abby"], "Caroline": ["Caz"],
    "Charlotte": ["Charlie", "Lottie"], "Jessica": ["Jess"], "Natalie": ["Nat"],
    "Nicola": ["Nicky", "Nic"], "Michelle": ["Shell"], "Joanne": ["Jo"], "Tracey": ["Trace"],
    "Bethany": ["Beth"], "Gemma": ["Gem"], "Amelia": ["Millie"], "Isabella": ["Bella"],
}

SURNAMES = ("Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson "
            "Evans Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James "
            "Phillips Mason Mitchell Rose Davis Rodriguez Cox Alexander Morris Harris King Lee "
            "Baker Turner Hill Moore Cooper Ward Morgan Hughes Edwards Watson Young Allen "
            "Carter Collins Bell Murphy Kelly Shaw Richardson Marshall Griffiths Ahmed Ali "
            "Hussain Begum Singh Kaur Akhtar Mahmood Rahman Okafor Adeyemi Okonkwo Mensah "
            "Nowak Kowalski Wisniewski Lewandowski Kaminska O'Brien O'Connor Byrne Doyle "
            "McCarthy Gallagher Walsh Quinn Nolan Kavanagh Fletcher Barker Holmes Lloyd "
            "Pearson Harrison Chapman Ellis Gibson Fox Hunt Hardy Stevens Webb Simpson Burton "
            "Hudson Booth Dawson Fisher Armstrong Pritchard Rowlands Sutcliffe Ramsbottom "
            "Greenhalgh Entwistle Braithwaite Postlethwaite Szymanski Abubakar Oyelaran").split()
# A Zipf-like weight: Smith far commoner than Postlethwaite.
SURNAME_WEIGHTS = [1.0 / (rank + 3) for rank in range(len(SURNAMES))]

STREETS = ("High Church Station Mill Victoria Park Queen's King's Albert Manor Green Chapel "
           "Windsor Grange Springfield Beech Oak Elm Willow Meadow Orchard Brook Hawthorn "
           "Cedar Ash Heath Moor Bridge Castle Priory Abbey Market North South West East "
           "Cromwell Wellington Nelson Jubilee Coronation Gladstone Peel Fairfield").split()
STREET_TYPES = [("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Close", "Cl"),
                ("Lane", "Ln"), ("Drive", "Dr"), ("Crescent", "Cres"), ("Way", "Way"),
                ("Terrace", "Terr"), ("Gardens", "Gdns")]
# Postcode areas no real UK postcode uses (Q is never a first letter), so no record here is
# anyone's real address.
AREAS = ["QA", "QB", "QC", "QD", "QE", "QF"]

# Agencies: share of NHS number held, of date of birth missing, of diminutive used, of name
# order swapped, of a typo in each name, of postcode missing, and whether records carry a
# street address.
AGENCIES = {
    #            nhs   no_dob dimin  swap   typo   no_pc  address
    "gp":        (0.99, 0.005, 0.02, 0.003, 0.010, 0.01, True),
    "maternity": (0.98, 0.000, 0.01, 0.003, 0.010, 0.01, True),
    "ed":        (0.88, 0.020, 0.08, 0.010, 0.030, 0.06, True),
    "school":    (0.00, 0.000, 0.10, 0.002, 0.015, 0.03, True),
    "social":    (0.65, 0.040, 0.06, 0.008, 0.025, 0.05, True),
    "police":    (0.01, 0.350, 0.20, 0.025, 0.040, 0.15, True),
    "housing":   (0.00, 0.300, 0.05, 0.005, 0.020, 0.00, True),
}
DEFAULTED_DOB = 0.006      # unknown day and month written as 1 January
DAY_MONTH_SWAP = 0.008     # where the day is 12 or less
ONE_DIGIT_DOB = 0.010
YEAR_ONLY = 0.01           # only the year known
NHS_TYPO = 0.004           # a mistyped NHS number (fails its check digit)
POSTCODE_TYPO = 0.02
MARRIED_NAME_CHANGE = 0.75  # women in a couple who took the spouse's surname
MAIDEN_NAME_ON_RECORD = 0.35  # of their records, kept from before (old GP record, police alias)
DOUBLE_BARRELLED = 0.03
TWIN_BIRTHS = 0.02
NAMESAKE_SON = 0.03        # a father's son given his name
INITIAL_ONLY = 0.02        # "K." for a given name (police, housing)


def nhs_numbers(rng, n):
    """Distinct valid NHS numbers from the 999 range, which NHS England keeps for testing."""
    seen = set()
    while len(seen) < n:
        body = "999" + "".join(rng.choice("0123456789") for _ in range(6))
        total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1)))
        check = (11 - total % 11) % 11
        if check != 10:
            seen.add(body + str(check))
    out = sorted(seen)  # a set's order changes with Python's string hashing, run to run
    rng.shuffle(out)
    return out


class Person:
    def __init__(self, pid, given, family, born, sex):
        self.pid, self.given, self.family, self.born, self.sex = pid, given, family, born, sex
        self.maiden = None
        self.addresses = []  # (from_date, house, street, postcode)
        self.nhs = None


def typo(rng, word):
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.random()
    letters = "abcdefghijklmnopqrstuvwxyz"
    if kind < 0.3:
        return word[:i] + word[i + 1:]
    if kind < 0.6:
        return word[:i] + rng.choice(letters) + word[i + 1:]
    if kind < 0.8 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice(letters) + word[i:]


def birth_date(rng, year_from, year_to):
    start = date(year_from, 1, 1)
    return start + timedelta(days=rng.randrange((date(year_to, 12, 31) - start).days))


def new_address(rng):
    house = rng.randrange(1, 160)
    flat = rng.randrange(1, 9) if rng.random() < 0.25 else None
    street = (rng.choice(STREETS), rng.randrange(len(STREET_TYPES)))
    district = rng.randrange(1, 30)
    postcode = f"{rng.choice(AREAS)}{district} {rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    return (house, flat, street, postcode)


def household(rng, next_id, today):
    """One household: a lone adult, a couple, or a family, with its relations."""
    people, relations = [], []

    def person(given, family, born, sex):
        p = Person(next_id[0], given, family, born, sex)
        next_id[0] += 1
        people.append(p)
        return p

    family = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    if rng.random() < DOUBLE_BARRELLED:
        family = f"{family}-{rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]}"
    shape = rng.random()
    home = new_address(rng)
    adults = []
    if shape < 0.18:  # one adult alone
        sex = rng.choice("FM")
        adults.append(person(rng.choice(FEMALE if sex == "F" else MALE), family,
                             birth_date(rng, 1945, 2004), sex))
    else:
        mother_born = birth_date(rng, 1970, 2004)
        mother = person(rng.choice(FEMALE), family, mother_born, "F")
        adults.append(mother)
        if shape < 0.80:  # a partner in the home
            partner = person(rng.choice(MALE), family,
                             birth_date(rng, mother_born.year - 8, min(mother_born.year + 3, 2004)), "M")
            adults.append(partner)
            relations.append((mother, partner, "spouses"))
            if rng.random() < MARRIED_NAME_CHANGE:
                mother.maiden = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
            else:
                mother.family = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        children = []
        for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])):
            first_possible = max(mother_born.year + 17, 1990)
            if first_possible > today.year:
                break
            born = birth_date(rng, first_possible, today.year - 1)
            sex = rng.choice("FM")
            names = FEMALE if sex == "F" else MALE
            given = rng.choice(names)
            if (sex == "M" and len(adults) > 1 and rng.random() < NAMESAKE_SON):
                given = adults[1].given
            child = person(given, family, born, sex)
            children.append(child)
            for adult in adults:
                kind = ("parent and child, same name"
                        if adult.given == child.given else "parent and child")
                relations.append((adult, child, kind))
            if rng.random() < TWIN_BIRTHS:
                sex2 = rng.choice("FM")
                names2 = FEMALE if sex2 == "F" else MALE
                given2 = rng.choice([n for n in names2 if n != given])
                twin = person(given2, family, born, sex2)
                relations.append((child, twin, "twins"))
                for adult in adults:
                    relations.append((adult, twin, "parent and child"))
                children.append(twin)
        for i, a in enumerate(children):
            for b in children[i + 1:]:
                if not any((x is a and y is b) or (x is b and y is a) for x, y, _ in relations):
                    relations.append((a, b, "siblings"))
    for p in people:
        p.addresses.append((p.born, home))
        if rng.random() < 0.3:  # moved here from elsewhere; older records keep the old address
            p.addresses.insert(0, (p.born, new_address(rng)))
            p.addresses[1] = (birth_date(rng, max(p.born.year, 2010), today.year), home)
    return people, relations


def written_address(rng, address, abbreviate):
    house, flat, (name, kind), _ = address
    full, short = STREET_TYPES[kind]
    street = f"{name} {short if abbreviate else full}"
    if flat is None:
        return f"{house} {street}"
    return rng.choice([f"Flat {flat}, {house} {street}", f"{flat}/{house} {street}",
                       f"{house} {street} Flat {flat}", f"{house}{'abcdefgh'[flat - 1]} {street}"])


def record_of(rng, p, agency, when, rid):
    nhs_rate, no_dob, dimin, swap, typo_rate, no_pc, _ = AGENCIES[agency]
    given, family = p.given, p.family
    if p.maiden and rng.random() < MAIDEN_NAME_ON_RECORD:
        family = p.maiden
    if rng.random() < dimin and given in DIMINUTIVES:
        given = rng.choice(DIMINUTIVES[given])
    if agency in ("police", "housing") and rng.random() < INITIAL_ONLY:
        given = given[0]
    if "-" in family and rng.random() < 0.3:
        family = rng.choice(family.split("-"))
    if rng.random() < typo_rate:
        given = typo(rng, given)
    if rng.random() < typo_rate:
        family = typo(rng, family)
    if rng.random() < swap:
        given, family = family, given
    dob = ""
    if rng.random() >= no_dob:
        b = p.born
        roll = rng.random()
        if roll < DEFAULTED_DOB:
            dob = f"{b.year:04}-01-01"
        elif roll < DEFAULTED_DOB + DAY_MONTH_SWAP and b.day <= 12 and b.day != b.month:
            dob = f"{b.year:04}-{b.day:02}-{b.month:02}"
        elif roll < DEFAULTED_DOB + DAY_MONTH_SWAP + ONE_DIGIT_DOB:
            digits = list(f"{b.year:04}{b.month:02}{b.day:02}")
            i = rng.choice([2, 3, 7])
            digits[i] = str((int(digits[i]) + rng.choice([1, -1])) % 10)
            text = "".join(digits)
            try:
                date(int(text[:4]), int(text[4:6]), int(text[6:]))
                dob = f"{text[:4]}-{text[4:6]}-{text[6:]}"
            except ValueError:
                dob = b.isoformat()
        elif roll < DEFAULTED_DOB + DAY_MONTH_SWAP + ONE_DIGIT_DOB + YEAR_ONLY:
            dob = f"{b.year:04}"
        else:
            dob = b.isoformat()
    address = p.addresses[0][1]
    for since, a in p.addresses:
        if since <= when:
            address = a
    postcode = address[3]
    if rng.random() < no_pc:
        postcode = ""
    elif rng.random() < POSTCODE_TYPO:
        postcode = postcode[:-1] + rng.choice("ABDEFGHJLNPQRSTUWXYZ")
    if rng.random() < 0.4:
        postcode = postcode.replace(" ", "").lower() if rng.random() < 0.5 else postcode
    nhs = ""
    if p.nhs and rng.random() < nhs_rate:
        nhs = p.nhs
        if rng.random() < NHS_TYPO:
            i = rng.randrange(10)
            nhs = nhs[:i] + str((int(nhs[i]) + 1) % 10) + nhs[i + 1:]
        if rng.random() < 0.3:
            nhs = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    return [rid, given, family, dob, p.sex if rng.random() > 0.03 else "", postcode,
            written_address(rng, address, rng.random() < 0.4), nhs]


def agencies_of(rng, p, today):
    """Which agencies hold a record of the person, and how many each."""
    age = (today - p.born).days / 365.25
    out = ["gp"]
    if rng.random() < 0.2:
        out.append("gp")  # a re-registration after a move
    if age < 18:
        if rng.random() < 0.6:
            out.append("maternity")
        if age >= 4:
            out += ["school"] * rng.choice([1, 1, 2])
        out += ["ed"] * rng.choice([0, 0, 1, 1, 2, 3])
        out += ["social"] * rng.choice([0, 1, 1, 2])
        if age >= 12 and rng.random() < 0.15:
            out.append("police")
    else:
        out += ["ed"] * rng.choice([0, 0, 1, 2])
        out += ["police"] * rng.choice([0, 0, 0, 1, 1, 2, 3])
        out += ["social"] * rng.choice([0, 0, 1])
        if rng.random() < 0.3:
            out.append("housing")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1889)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    today = date(2026, 12, 1)
    people, relations, next_id = [], [], [0]
    estimated = 0
    while estimated < args.records:
        ps, rs = household(rng, next_id, today)
        people += ps
        relations += rs
        estimated += sum(4 if (today - p.born).days < 18 * 365 else 3 for p in ps)
    for p, n in zip(people, nhs_numbers(rng, len(people))):
        p.nhs = n
    rows, truth = [], []
    for p in people:
        for agency in agencies_of(rng, p, today):
            when = birth_date(rng, max(p.born.year, 2012), 2026)
            rid = f"{agency}-{len(rows)}"
            rows.append(record_of(rng, p, agency, when, rid))
            truth.append((rid, f"q{p.pid}"))
            if len(rows) >= args.records:
                break
        if len(rows) >= args.records:
            break
    order = list(range(len(rows)))
    rng.shuffle(order)
    with open(args.output, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "given_name", "surname", "date_of_birth", "sex", "postcode", "address",
                    "nhs_number"])
        w.writerows(rows[i] for i in order)
    truth_path = args.output.replace(".csv", ".truth.csv")
    with open(truth_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "person_id"])
        w.writerows(truth)
    with open(truth_path + ".relations.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["person_a", "person_b", "relation"])
        w.writerows((f"q{a.pid}", f"q{b.pid}", kind) for a, b, kind in relations)
    print(f"{len(rows)} records of {len({t[1] for t in truth})} persons written to {args.output}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
