"""Made-up but plausible library data for ``circulate demo``: the same for the same seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from application.catalogue import BookDetails, CatalogueRecord

_ADJECTIVES = (
    "Silent",
    "Hidden",
    "Last",
    "Broken",
    "Golden",
    "Distant",
    "Forgotten",
    "Crimson",
    "Quiet",
    "Endless",
    "Northern",
    "Winter",
    "Burning",
    "Glass",
    "Wandering",
    "Secret",
    "Little",
    "Iron",
    "Paper",
    "Midnight",
    "Wild",
    "Lost",
    "Bright",
    "Hollow",
)
_NOUNS = (
    "River",
    "Garden",
    "Kingdom",
    "Library",
    "Orchard",
    "Harbour",
    "Mountain",
    "Letters",
    "Clock",
    "Archive",
    "Lighthouse",
    "Forest",
    "Machine",
    "Island",
    "Road",
    "Cartographer",
    "Observatory",
    "Inheritance",
    "Tide",
    "Map",
    "Station",
    "Compass",
    "Winter",
    "Alphabet",
)
_TOPICS = (
    "Algorithms",
    "Bread Baking",
    "Birdsong",
    "Calculus",
    "Cities",
    "Databases",
    "Gardening",
    "Geology",
    "Jazz",
    "Knots",
    "Navigation",
    "Photography",
    "Physics",
    "Poetry",
    "Rivers",
    "Sailing",
    "Statistics",
    "Tea",
    "Typography",
    "Weather",
)
_NONFICTION_FORMS = (
    "A Short History of {}",
    "The Art of {}",
    "{} for Beginners",
    "Understanding {}",
    "The Little Book of {}",
    "{}: A Field Guide",
    "Notes on {}",
)
_FIRST_NAMES = (
    "Ada",
    "Alan",
    "Amara",
    "Ben",
    "Chidi",
    "Clara",
    "Dmitri",
    "Elena",
    "Farah",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaito",
    "Lena",
    "Marta",
    "Nadia",
    "Omar",
    "Priya",
    "Rosa",
    "Sven",
    "Tomas",
    "Una",
    "Yusuf",
    "Zoe",
)
_LAST_NAMES = (
    "Abara",
    "Berg",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gallo",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Tanaka",
    "Umarov",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zhang",
)
_PUBLISHERS = (
    "Harbour House",
    "Lantern Press",
    "North Gate Books",
    "Quill & Ink",
    "Riverbend Publishing",
    "Slate Editions",
    "Tidewater",
    "Vellum Books",
)
_SUBJECTS = ("fiction", "mystery", "history", "science", "poetry", "children", "travel", "art")


def isbn13(body: int) -> str:
    """A valid ISBN-13: 978, nine digits of ``body``, and the check digit."""
    digits = f"978{body % 1_000_000_000:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


def person(rng: random.Random, used: set[str], domain: str) -> Person:
    while True:
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        local = f"{first}.{last}".lower()
        email = f"{local}@{domain}"
        n = 2
        while email in used:
            email = f"{local}{n}@{domain}"
            n += 1
        used.add(email)
        return Person(f"{first} {last}", email)


def catalogue(rng: random.Random, count: int) -> list[CatalogueRecord]:
    """``count`` books with distinct ISBNs, one to three copies each."""
    bodies = rng.sample(range(100_000_000, 999_999_999), count)
    records = []
    for line, body in enumerate(bodies, start=1):
        if rng.random() < 0.7:
            title = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
            subjects = [rng.choice(_SUBJECTS[:3])]
        else:
            title = rng.choice(_NONFICTION_FORMS).format(rng.choice(_TOPICS))
            subjects = [rng.choice(_SUBJECTS[2:])]
        authors = [
            f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            for _ in range(1 if rng.random() < 0.85 else 2)
        ]
        records.append(
            CatalogueRecord(
                line=line,
                details=BookDetails(
                    isbn=isbn13(body),
                    title=title,
                    authors=authors,
                    publisher=rng.choice(_PUBLISHERS),
                    year=rng.randint(1950, 2024),
                    subjects=subjects,
                ),
                copies=rng.choice((1, 1, 2, 2, 3)),
            )
        )
    return records
